// Command ledger is a zero-loss verifier: it drives a mixed load through
// two gateway replicas on the HA stack (deploy/local/stack.sh up --ha)
// while a schedule injects faults, then checks at quiescence that nothing
// acknowledged was lost and nothing rolled back leaked.
//
// The load: sends with Idempotency-Keys, retried with the same key on 503
// or a dropped connection (alternating replicas); transactions committed or
// rolled back through the API, or left undecided for the check URL to
// resolve; one push subscription to a recording webhook that fails a share
// of requests. The faults, one after another, every -fault-every: kill -9
// of a gateway replica (restarted), kill -9 of a broker group's master
// (restarted, it rejoins as a slave), kill -9 of the Redis master (restarted
// as a replica), a webhook outage.
//
// It prints one line of figures and exits 1 on any loss, leak, or duplicate
// that is not explained by a kill.
//
//	go run ./cmd/ledger -duration 2m30s           # the short run (make chaos-short)
//	go run ./cmd/ledger -duration 30m             # make chaos DURATION=30m
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// config is the run's settings (flags).
type config struct {
	Duration    time.Duration // load duration
	FaultEvery  time.Duration // time between two faults
	Settle      time.Duration // quiescence deadline after the load
	Workers     int
	FailPercent int // share of webhook requests answered 500
	StackDir    string
	RepoRoot    string
	Faults      string // comma-separated fault kinds, in schedule order
	Window      time.Duration
	WorkDir     string // the gateways' binary and logs
}

func main() {
	var cfg config
	flag.DurationVar(&cfg.Duration, "duration", 150*time.Second, "how long the load runs")
	flag.DurationVar(&cfg.FaultEvery, "fault-every", 30*time.Second, "time between two faults (the first after one interval)")
	flag.DurationVar(&cfg.Settle, "settle", 5*time.Minute, "quiescence deadline: how long to wait for outstanding deliveries after the load")
	flag.IntVar(&cfg.Workers, "workers", 6, "concurrent clients")
	flag.IntVar(&cfg.FailPercent, "webhook-fail-percent", 5, "share of webhook requests the endpoint answers 500")
	flag.StringVar(&cfg.StackDir, "stack", "", "HA stack dir (ZL_STACK_DIR); default .stack/chaos; started if not running")
	flag.StringVar(&cfg.Faults, "faults", "gateway,broker,redis,webhook", "fault kinds in schedule order, repeated")
	flag.DurationVar(&cfg.Window, "kill-window", 15*time.Second, "a duplicate is explained when its first delivery lies this close to a kill")
	flag.StringVar(&cfg.WorkDir, "work", "", "dir for the gateways' binary and logs (default a new dir under $TMPDIR, kept)")
	flag.Parse()
	wd, _ := os.Getwd()
	cfg.RepoRoot = wd
	if cfg.StackDir == "" {
		cfg.StackDir = filepath.Join(wd, ".stack", "chaos")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f, b, err := run(ctx, cfg, log)
	if err != nil && f.Kills == 0 {
		fmt.Fprintln(os.Stderr, "ledger:", err)
		os.Exit(2)
	}
	fmt.Println(f)
	// A run whose fault failed (a group that elected no master in time)
	// still verified what it could: its losses are explained too.
	if f.failed() {
		fmt.Fprintf(os.Stderr, "ledger: lost %s; leaked %s; duplicates outside a kill %s; other webhook-id %s\n",
			sample(f.Lost), sample(f.Leaked), sample(f.DupOutsideKill), sample(f.DupOtherWebhookID))
		for _, line := range b.explain(append(append(f.Lost[:min(len(f.Lost), 20):min(len(f.Lost), 20)], f.Leaked[:min(len(f.Leaked), 10)]...), f.DupOutsideKill[:min(len(f.DupOutsideKill), 10)]...)) {
			fmt.Fprintln(os.Stderr, "ledger:   "+line)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ledger:", err)
		os.Exit(2)
	}
	if f.failed() {
		os.Exit(1)
	}
}
