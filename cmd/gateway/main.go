// Command gateway runs the zeroloss HTTP gateway in front of Apache RocketMQ.
//
// Configuration: defaults, then the YAML file named by -config or
// ZEROLOSS_CONFIG, then ZEROLOSS_* variables, then flags (see -help).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/apache/rocketmq-client-go/v2/rlog"
	"github.com/redis/go-redis/v9"

	"github.com/zeroloss/zeroloss/config"
	"github.com/zeroloss/zeroloss/dedup"
	"github.com/zeroloss/zeroloss/handlers"
	"github.com/zeroloss/zeroloss/internal/auth"
	"github.com/zeroloss/zeroloss/internal/broker"
	"github.com/zeroloss/zeroloss/internal/broker/pop"
	"github.com/zeroloss/zeroloss/internal/console"
	"github.com/zeroloss/zeroloss/internal/durable"
	"github.com/zeroloss/zeroloss/internal/idempotency"
	"github.com/zeroloss/zeroloss/internal/pull"
	"github.com/zeroloss/zeroloss/internal/push"
	"github.com/zeroloss/zeroloss/internal/rates"
	"github.com/zeroloss/zeroloss/internal/send"
	"github.com/zeroloss/zeroloss/internal/subscription"
	"github.com/zeroloss/zeroloss/internal/telemetry"
	"github.com/zeroloss/zeroloss/internal/webhook"
	"github.com/zeroloss/zeroloss/middleware"
	"github.com/zeroloss/zeroloss/txcallback"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

// run builds the parts in order, serves until ctx ends, then shuts them down
// in reverse order.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // -help printed every setting
	}
	if err != nil {
		return err
	}
	applyRuntime(cfg.Runtime)
	// Log lines are written by a goroutine of their own, batched under
	// load: a request never waits for stdout (a terminal, a pipe).
	logOut := telemetry.NewBatchWriter(stdout, 4<<20)
	defer logOut.Close()
	log := telemetry.NewLogger(logOut, cfg.LogLevel)
	rlog.SetLogger(telemetry.RocketMQLogger{Log: log, Min: slog.LevelWarn})

	tp, shutdownTracing, err := telemetry.Tracing(ctx, cfg.OTLPEndpoint, "zeroloss-gateway", version)
	if err != nil {
		return err
	}
	defer shutdownWithin(log, "tracing", 5*time.Second, shutdownTracing)
	metrics := telemetry.NewMetrics()

	rdb, err := newRedis(cfg.Redis)
	if err != nil {
		return err
	}
	defer rdb.Close()
	acked, err := durable.New(rdb, durable.Config{Replicas: cfg.Redis.WaitReplicas, Timeout: cfg.Redis.WaitTimeout})
	if err != nil {
		return err
	}
	idem, err := idempotency.NewStore(rdb, idempotency.Config{TTL: cfg.IdempotencyTTL, Lease: cfg.IdempotencyLease, Writer: acked})
	if err != nil {
		return err
	}

	prod, err := broker.NewProducer(broker.Config{
		NameServers: cfg.NameServers,
		Group:       cfg.ProducerGroup,
		SendTimeout: cfg.SendTimeout,
		Retries:     cfg.SendRetries,
		Known:       knownTopics{rdb},
		Coalesce:    cfg.SendCoalesce, CoalesceMax: 64, MaxBytes: cfg.MaxMessageBytes,
		Observe: func(topic, outcome string, messages int, elapsed time.Duration) {
			metrics.Sends.WithLabelValues(topic, outcome).Add(float64(messages))
			metrics.SendSeconds.WithLabelValues(outcome).Observe(elapsed.Seconds())
		},
	})
	if err != nil {
		return err
	}
	if err := prod.Start(); err != nil {
		return err
	}
	defer func() {
		if err := prod.Shutdown(); err != nil {
			log.Warn("shutdown producer", slog.Any("error", err))
		}
	}()

	// The transactional producer answers check-backs through txSvc, which
	// needs the producer to send and end transactions: the closure breaks
	// the cycle, and the producer starts only once txSvc exists.
	var txSvc *txcallback.Service
	txMetrics := txcallback.NewMetrics(metrics.Registry())
	txProd, err := broker.NewTxProducer(broker.TxConfig{
		NameServers: cfg.NameServers, Group: cfg.TxGroup, SendTimeout: cfg.SendTimeout, Retries: cfg.SendRetries,
		Known: knownTopics{rdb}, MaxConcurrentChecks: cfg.TxChecksInFlight,
		OnCheckDropped: func() { txMetrics.CheckBacks.WithLabelValues("busy").Inc() },
	}, func(ctx context.Context, req broker.CheckRequest) { txSvc.Check(ctx, req) })
	if err != nil {
		return err
	}
	txSvc = txcallback.New(txcallback.NewStore(rdb, cfg.TxRecordTTL).WithWriter(acked), txProd,
		webhook.NewClient(cfg.AllowPrivateWebhooks, "zeroloss/"+version),
		txcallback.Config{CheckMax: cfg.TxCheckMax, AllowPrivateWebhooks: cfg.AllowPrivateWebhooks,
			MaxConcurrentChecks: cfg.TxChecksInFlight, ResolveAfter: cfg.TxResolveAfter, CheckWindow: cfg.TxCheckWindow,
			SendBudget: cfg.SendTimeout*time.Duration(cfg.SendRetries+1) + 2*time.Second},
		log, txMetrics)
	if err := txProd.Start(); err != nil {
		return err
	}
	resolveCtx, stopResolver := context.WithCancel(context.Background())
	resolverDone := make(chan struct{})
	go func() { defer close(resolverDone); txSvc.Resolve(resolveCtx) }()
	defer func() {
		// Reverse order: stop the resolver, finish check webhook calls,
		// then stop the producer.
		stopResolver()
		<-resolverDone
		ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		txSvc.Close(ctx)
		if err := txProd.Shutdown(); err != nil {
			log.Warn("shutdown transactional producer", slog.Any("error", err))
		}
	}()

	// Push subscriptions: every replica consumes every active subscription.
	subStore := subscription.NewStore(rdb, "")
	dd, err := dedup.NewStore(rdb, dedup.Config{Window: cfg.DedupWindow, Lease: 70 * time.Second})
	if err != nil {
		return err
	}
	// Concurrent deliveries share Redis round trips (claims and marks are
	// pipelined in batches); it stops after the deliveries, below.
	batcher := dedup.NewBatcher(dd, 64)
	batchCtx, stopBatcher := context.WithCancel(context.Background())
	batchDone := make(chan struct{})
	go func() { defer close(batchDone); batcher.Run(batchCtx) }()
	defer func() { stopBatcher(); <-batchDone }()
	admin := broker.NewAdmin(cfg.NameServers)
	dlq := push.NewDeadLetters(rdb, admin, prod, admin, cfg.Cluster, cfg.DeadLetterTTL)
	// Push delivery on POP consumption: memory bounded by the messages in
	// flight, whatever the number of subscriptions.
	popper, err := pop.New(pop.Config{NameServers: cfg.NameServers})
	if err != nil {
		return err
	}
	defer popper.Close()
	engine, err := push.NewEngine(push.Config{
		Resync: cfg.SubscriptionResync, LeaseWait: cfg.DeliveryLeaseWait, DrainTimeout: cfg.ShutdownTimeout,
		MaxInFlight: cfg.DeliveryInFlight, MaxInFlightBytes: cfg.DeliveryInFlightBytes, Pollers: cfg.DeliveryPollers,
		PollTime: cfg.DeliveryPollTime, IdlePoll: cfg.DeliveryIdlePoll, InvisibleTime: cfg.DeliveryInvisibleTime,
		RetryAfterMax: cfg.RetryAfterMax,
	}, subStore, popper, popper, dlq, admin, batcher, webhook.NewClient(cfg.AllowPrivateWebhooks, "zeroloss/"+version), dlq,
		tp, telemetry.Propagator(), log, push.NewMetrics(metrics.Registry()))
	if err != nil {
		return err
	}
	engineCtx, stopDeliveries := context.WithCancel(context.Background())
	engineDone := make(chan struct{})
	go func() { defer close(engineDone); engine.Run(engineCtx) }()
	defer func() {
		// After HTTP has drained: finish in-flight deliveries (acks and
		// retries settled; the rest comes back after its invisible time),
		// stop the pollers; producers and Redis close after.
		stopDeliveries()
		<-engineDone
	}()

	// Pull subscriptions: receives and settles over POP, from any replica.
	popClient, err := pop.New(pop.Config{NameServers: cfg.NameServers})
	if err != nil {
		return err
	}
	defer popClient.Close()
	puller, err := pull.New(pull.Config{MaxReceives: cfg.PullReceivesInFlight, Log: log}, popClient, popClient, dd,
		pull.NewDeadLetters(prod, admin, dlq, cfg.Cluster), pull.NewRedisReplaced(rdb))
	if err != nil {
		return err
	}

	keys, err := auth.NewKeyring(cfg.APIKeys)
	if err != nil {
		return err
	}
	prop := telemetry.Propagator()
	sendSvc, err := send.New(prod, send.Config{
		MaxMessageBytes: cfg.MaxMessageBytes,
		SendBudget:      cfg.SendTimeout*time.Duration(cfg.SendRetries+1) + time.Second,
	}, prop)
	if err != nil {
		return err
	}
	msgs := handlers.NewMessages(sendSvc)
	health := handlers.NewHealth(map[string]handlers.Check{
		"rocketmq":     prod.Check,
		"transactions": txProd.Check,
		"redis":        func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
	}, cfg.HealthTimeout, func(r *http.Request) string { return middleware.GetRequestID(r.Context()) })
	// Rates and heartbeat for the console: this replica's counters, shared
	// through Redis.
	recorder, err := rates.NewRecorder(rates.Config{Replica: replicaName(), Version: version}, metrics.Registry(), rdb, log)
	if err != nil {
		return err
	}
	ratesCtx, stopRates := context.WithCancel(context.Background())
	ratesDone := make(chan struct{})
	go func() { defer close(ratesDone); recorder.Run(ratesCtx) }()
	defer func() { stopRates(); <-ratesDone }()
	subs := handlers.NewSubscriptions(subscription.NewService(subStore, cfg.AllowPrivateWebhooks), dlq)
	router, err := handlers.NewRouter(handlers.RouterDeps{
		Log: log, Keys: keys, Idempotency: idem, Health: health,
		API: handlers.API{Messages: msgs, Transactions: handlers.NewTransactions(txSvc, cfg.MaxMessageBytes, prop),
			Subscriptions: subs, Pull: handlers.NewPull(subs, puller), Stats: handlers.NewStats(subs, admin, recorder, health)},
		Metrics: metrics, TracerProvider: tp, Propagator: prop, MaxBodyBytes: cfg.MaxBodyBytes,
		Console: console.Handler(),
	})
	if err != nil {
		return err
	}

	if cfg.PprofListen != "" {
		pprofSrv := &http.Server{Addr: cfg.PprofListen, Handler: pprofMux(), ReadHeaderTimeout: cfg.ReadHeaderTimeout}
		go func() { _ = pprofSrv.ListenAndServe() }()
		defer pprofSrv.Close()
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	srv := &http.Server{
		Handler:           router,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("listening", slog.String("addr", ln.Addr().String()), slog.String("version", version),
		slog.Any("nameServers", cfg.NameServers))

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests", slog.Duration("timeout", cfg.ShutdownTimeout))
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("http shutdown did not drain in time", slog.Any("error", err))
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("serve", slog.Any("error", err))
	}
	log.Info("stopped")
	return nil
}

// applyRuntime sets the garbage collector's target and the memory limit
// (config.Runtime says why); a zero setting leaves the runtime's own.
func applyRuntime(r config.Runtime) {
	if r.GCPercent > 0 {
		debug.SetGCPercent(r.GCPercent)
	}
	if r.MemoryLimitMiB > 0 {
		debug.SetMemoryLimit(int64(r.MemoryLimitMiB) << 20)
	}
}

func shutdownWithin(log *slog.Logger, what string, d time.Duration, f func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := f(ctx); err != nil {
		log.Warn("shutdown "+what, slog.Any("error", err))
	}
}

// newRedis returns a client for a single node (URL), Sentinel (Addrs with
// MasterName) or Cluster (several Addrs).
func newRedis(c config.Redis) (redis.UniversalClient, error) {
	opts := &redis.UniversalOptions{
		Addrs: c.Addrs, MasterName: c.MasterName, Username: c.Username, Password: c.Password, DB: c.DB,
		PoolSize: c.PoolSize,
	}
	if c.URL != "" {
		o, err := redis.ParseURL(c.URL)
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", err)
		}
		opts.Addrs, opts.DB, opts.TLSConfig = []string{o.Addr}, o.DB, o.TLSConfig
		if o.Username != "" {
			opts.Username = o.Username
		}
		if o.Password != "" {
			opts.Password = o.Password
		}
	}
	return redis.NewUniversalClient(opts), nil
}

// knownTopics remembers in Redis (one set, one key) the topics any replica
// sent to, so a topic whose brokers are down is never reported missing.
type knownTopics struct{ rdb redis.UniversalClient }

func (k knownTopics) Remember(ctx context.Context, topic string) error {
	return k.rdb.SAdd(ctx, "zl:{topics}", topic).Err()
}

func (k knownTopics) Known(ctx context.Context, topic string) (bool, error) {
	return k.rdb.SIsMember(ctx, "zl:{topics}", topic).Result()
}

// replicaName names this process among the gateway's replicas: host name
// and process id.
func replicaName() string {
	host, err := os.Hostname()
	if err != nil {
		host = "gateway"
	}
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// pprofMux serves the runtime profiles on their own listener.
func pprofMux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
