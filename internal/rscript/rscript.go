// Package rscript runs Redis Lua scripts and commands in pipelines: one
// script over many keys in one round trip (RunMany), and the commands of
// concurrent callers sharing round trips (Batcher).
//
// go-redis's Script.Run falls back from EVALSHA to EVAL by itself, but not
// inside a pipeline, where a NOSCRIPT error (after a Redis restart or
// failover emptied the script cache) is only seen after Exec. Every script
// queued here with Pipe.Eval gets that fallback: the calls that answered
// NOSCRIPT run again with EVAL in a second round trip, and their commands
// then hold the second answer.
package rscript

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// Pipe is where one caller queues its commands in a pipeline: plain
// commands on the embedded Pipeliner, scripts with Eval. A command's
// result is readable once the pipeline ran (RunMany, Batcher.Do returned).
type Pipe struct {
	redis.Pipeliner
	ctx   context.Context
	evals *[]evalCall
}

// evalCall is one queued script, kept to run it again with EVAL.
type evalCall struct {
	script *redis.Script
	keys   []string
	args   []any
	cmd    *redis.Cmd
}

// Eval queues script on keys with args as EVALSHA. If Redis answers
// NOSCRIPT, the script runs again with EVAL in a second round trip after
// the pipeline, so it may then run after the caller's other commands: keep
// commands whose order matters in one script.
func (p Pipe) Eval(script *redis.Script, keys []string, args ...any) *redis.Cmd {
	cmd := script.EvalSha(p.ctx, p.Pipeliner, keys, args...)
	*p.evals = append(*p.evals, evalCall{script: script, keys: keys, args: args, cmd: cmd})
	return cmd
}

// execute runs the commands fill queues in one pipeline on rdb, then those
// of its scripts that answered NOSCRIPT again with EVAL. On Redis Cluster
// the client splits the pipeline by node (keys of any slots).
func execute(ctx context.Context, rdb redis.UniversalClient, fill func(Pipe)) {
	var evals []evalCall
	pipe := rdb.Pipeline()
	fill(Pipe{Pipeliner: pipe, ctx: ctx, evals: &evals})
	// Each command holds its own result or error; Exec's is the first of them.
	_, _ = pipe.Exec(ctx)
	var again []evalCall
	for _, e := range evals {
		if redis.HasErrorPrefix(e.cmd.Err(), "NOSCRIPT") {
			again = append(again, e)
		}
	}
	if len(again) == 0 {
		return
	}
	pipe = rdb.Pipeline()
	fresh := make([]*redis.Cmd, len(again))
	for i, e := range again {
		fresh[i] = e.script.Eval(ctx, pipe, e.keys, e.args...)
	}
	_, _ = pipe.Exec(ctx)
	for i, e := range again {
		e.cmd.SetVal(fresh[i].Val())
		e.cmd.SetErr(fresh[i].Err())
	}
}

// RunMany runs script once per key (keys[i] with args[i]) in one pipeline,
// retrying with EVAL those that answered NOSCRIPT. It returns one command
// per key; each carries its own result or error.
func RunMany(ctx context.Context, rdb redis.UniversalClient, script *redis.Script, keys []string, args [][]any) []*redis.Cmd {
	cmds := make([]*redis.Cmd, len(keys))
	execute(ctx, rdb, func(p Pipe) {
		for i := range keys {
			cmds[i] = p.Eval(script, keys[i:i+1], args[i]...)
		}
	})
	return cmds
}
