// Package durable runs the Redis writes that back an answer to a client (a
// transaction decision, an Idempotency-Key record) so that a Redis master
// failover cannot take back what the client was told.
//
// Redis replicates asynchronously: a master answers a write before any
// replica has it, and a replica promoted by Sentinel after the master died
// lacks the writes that had not reached it. WAIT closes that window: it
// blocks until the given number of replicas acknowledged every write the
// same connection made before it. A Writer therefore sends the script and
// WAIT in one pipeline, on one connection (on Redis Cluster, the connection
// to the master of the script's slot), and fails the write when too few
// replicas answered in time: the caller then tells its client nothing was
// confirmed (503), and the client's retry finds the write and waits again.
package durable

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotReplicated means the master applied the write but fewer replicas
// than required acknowledged it within the timeout: a failover now could
// lose it.
var ErrNotReplicated = errors.New("durable: write not acknowledged by enough Redis replicas")

// Config says how many replicas must hold a write before it counts.
type Config struct {
	// Replicas is WAIT's numreplicas; 0 sends no WAIT (a single node, or
	// when an acknowledged write may be lost in a failover).
	Replicas int
	// Timeout is WAIT's timeout; it must be positive when Replicas is.
	Timeout time.Duration
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Replicas < 0 {
		return errors.New("durable: Replicas must not be negative")
	}
	if c.Replicas > 0 && c.Timeout <= 0 {
		return errors.New("durable: Timeout must be positive when Replicas is")
	}
	return nil
}

// Writer runs scripts followed by WAIT. It is safe for concurrent use; the
// zero value would dereference a nil client: use New.
type Writer struct {
	rdb redis.UniversalClient
	cfg Config
}

// New returns a Writer on rdb (a single node, Sentinel or Cluster client).
func New(rdb redis.UniversalClient, cfg Config) (*Writer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Writer{rdb: rdb, cfg: cfg}, nil
}

// Waits reports whether the writer sends WAIT: scripts whose answer may
// come from a write made earlier (a replay) use it to force a write of
// their own, so that the WAIT after them also covers the earlier one.
func (w *Writer) Waits() bool { return w.cfg.Replicas > 0 }

// Run runs script on keys (all in one hash slot) with args and, when
// replicas are required, WAIT on the same connection. The script's
// answer is returned; its error wraps ErrNotReplicated when WAIT counted
// too few replicas. A script that wrote nothing in this call is covered
// only as far as this connection's earlier writes go: see Waits.
func (w *Writer) Run(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	if w.cfg.Replicas == 0 {
		return script.Run(ctx, w.rdb, keys, args...)
	}
	var node redis.Cmdable = w.rdb
	pipelined := w.rdb.Pipelined
	if cc, ok := w.rdb.(*redis.ClusterClient); ok && len(keys) > 0 {
		m, err := cc.MasterForKey(ctx, keys[0])
		if err != nil {
			cmd := redis.NewCmd(ctx)
			cmd.SetErr(fmt.Errorf("durable: master of %s: %w", keys[0], err))
			return cmd
		}
		node, pipelined = m, m.Pipelined
	}
	cmd, wait := w.pipeline(ctx, pipelined, script.EvalSha, keys, args)
	if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
		if err := script.Load(ctx, node).Err(); err != nil {
			cmd.SetErr(fmt.Errorf("durable: load script: %w", err))
			return cmd
		}
		cmd, wait = w.pipeline(ctx, pipelined, script.EvalSha, keys, args)
	}
	if cmd.Err() != nil {
		return cmd
	}
	if err := wait.Err(); err != nil {
		cmd.SetErr(fmt.Errorf("durable: wait for %d replicas: %w", w.cfg.Replicas, err))
		return cmd
	}
	if n, err := wait.Int64(); err != nil || n < int64(w.cfg.Replicas) {
		cmd.SetErr(fmt.Errorf("%w: %d of %d within %s", ErrNotReplicated, n, w.cfg.Replicas, w.cfg.Timeout))
	}
	return cmd
}

type evalFunc func(ctx context.Context, c redis.Scripter, keys []string, args ...any) *redis.Cmd

func (w *Writer) pipeline(ctx context.Context, pipelined func(context.Context, func(redis.Pipeliner) error) ([]redis.Cmder, error),
	eval evalFunc, keys []string, args []any) (*redis.Cmd, *redis.Cmd) {
	var cmd *redis.Cmd
	var wait *redis.Cmd
	_, _ = pipelined(ctx, func(p redis.Pipeliner) error {
		cmd = eval(ctx, p, keys, args...)
		// The pipeline reads with the client's read timeout (3 s by
		// default): keep Timeout below it.
		wait = p.Do(ctx, "wait", w.cfg.Replicas, w.cfg.Timeout.Milliseconds())
		return nil
	})
	return cmd, wait
}
