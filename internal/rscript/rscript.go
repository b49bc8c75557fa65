// Package rscript runs one Lua script over many keys in one Redis round
// trip. go-redis's Script.Run falls back from EVALSHA to EVAL by itself, but
// not inside a pipeline, where a NOSCRIPT error (after a Redis restart or
// failover emptied the script cache) is only seen after Exec; RunMany does
// that fallback for the pipelined case.
package rscript

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// RunMany runs script once per key (keys[i] with args[i]) in one pipeline,
// retrying in a second pipeline with EVAL those that answered NOSCRIPT. It
// returns one command per key; each carries its own result or error.
func RunMany(ctx context.Context, rdb redis.UniversalClient, script *redis.Script, keys []string, args [][]any) []*redis.Cmd {
	cmds := make([]*redis.Cmd, len(keys))
	p := rdb.Pipeline()
	for i := range keys {
		cmds[i] = script.EvalSha(ctx, p, keys[i:i+1], args[i]...)
	}
	_, _ = p.Exec(ctx)
	var retry []int
	for i, cmd := range cmds {
		if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			retry = append(retry, i)
		}
	}
	if len(retry) == 0 {
		return cmds
	}
	p = rdb.Pipeline()
	for _, i := range retry {
		cmds[i] = script.Eval(ctx, p, keys[i:i+1], args[i]...)
	}
	_, _ = p.Exec(ctx)
	return cmds
}
