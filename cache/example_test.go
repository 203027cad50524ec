package cache_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/seqcast/seqcast/cache"
)

func Example() {
	ctx := context.Background()

	// Pick the backend from configuration; the memory LRU needs no setup.
	var backend cache.Cache = cache.NewMemory(10000)
	if url := os.Getenv("SEQCAST_REDIS_URL"); url != "" {
		r, err := cache.NewRedis(ctx, url, cache.RedisOptions{})
		if err != nil {
			slog.Error("redis unavailable, using the memory cache", "err", err)
		} else {
			backend = r
		}
	}

	// Guarded never returns errors: faults become misses and are counted.
	requests := map[string]int{} // stands in for a Prometheus CounterVec (single goroutine here)
	c := cache.NewGuarded(backend, cache.GuardOptions{
		Hook: func(op, backend, result string, err error) {
			if op == cache.OpGet {
				requests[backend+"/"+result]++
			}
		},
	})
	defer c.Close()

	key := "predict:v1:3f2a..." // e.g. model version + hash of the request body
	if _, ok, _ := c.Get(ctx, key); !ok {
		body := []byte(`{"prediction":[1912.5]}`) // computed by the model
		_ = c.Set(ctx, key, body, 5*time.Minute)
	}
	body, ok, _ := c.Get(ctx, key)
	fmt.Println(string(body), ok)
	fmt.Println(requests["memory/miss"], requests["memory/hit"])
	// Output:
	// {"prediction":[1912.5]} true
	// 1 1
}
