package txcallback

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zeroloss/zeroloss/internal/testenv"
)

// TestSharedPipelineAnswersEachCallerItsOwn: concurrent callers share
// pipelines, and each reads its own commands' results.
func TestSharedPipelineAnswersEachCallerItsOwn(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Redis (run without -short)")
	}
	rdb := testenv.Shared(t).RedisDB(t, 2)
	p := &sharedPipeline{rdb: rdb, maxInFlight: 1, maxBatch: 8}
	ctx := context.Background()
	run := fmt.Sprint(time.Now().UnixNano())
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "zl:test:pipe:" + run + ":" + fmt.Sprint(i)
			var incr *redis.IntCmd
			var get *redis.StringCmd
			if err := p.run(ctx, func(pipe redis.Pipeliner) {
				pipe.Set(ctx, key, i*10, time.Minute)
				incr = pipe.Incr(ctx, key)
				get = pipe.Get(ctx, key)
			}); err != nil {
				t.Error(err)
				return
			}
			if incr.Val() != int64(i*10+1) || get.Val() != fmt.Sprint(i*10+1) {
				t.Errorf("caller %d read %d, %q", i, incr.Val(), get.Val())
			}
		}()
	}
	wg.Wait()
}
