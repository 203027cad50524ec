package api

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/cache"
	"github.com/seqcast/seqcast/models"
	"github.com/seqcast/seqcast/serving"
)

// TestFlightCancelledWhenEveryWaiterLeaves: a computation nobody waits for
// any more is cancelled; one that still has a waiter is not.
func TestFlightCancelledWhenEveryWaiterLeaves(t *testing.T) {
	var fs flights
	started := make(chan struct{})
	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	followerCtx, cancelFollower := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := fs.do(leaderCtx, "k", func(ctx context.Context) ([]byte, error) {
			close(started)
			<-ctx.Done() // runs until cancelled
			return nil, ctx.Err()
		})
		done <- err
	}()
	<-started
	follower := make(chan error, 1)
	go func() {
		_, err := fs.do(followerCtx, "k", func(context.Context) ([]byte, error) { return []byte("x"), nil })
		follower <- err
	}()
	for { // the follower has joined
		fs.mu.Lock()
		n := fs.m["k"].waiters
		fs.mu.Unlock()
		if n == 2 {
			break
		}
	}
	cancelLeader()
	fs.mu.Lock()
	canceled := fs.m["k"].canceled
	fs.mu.Unlock()
	if canceled {
		t.Fatal("cancelled while a follower still waits")
	}
	cancelFollower()
	if err := <-follower; err != context.Canceled {
		t.Fatalf("follower: %v", err)
	}
	if err := <-done; err != context.Canceled {
		t.Fatalf("leader: %v", err)
	}
	// A new request for the key starts afresh.
	v, err := fs.do(context.Background(), "k", func(context.Context) ([]byte, error) { return []byte("ok"), nil })
	if err != nil || string(v) != "ok" {
		t.Fatalf("after: %q %v", v, err)
	}
}

// BenchmarkPredictBatchedParallel runs distinct single predictions from
// parallel clients through the whole handler with dynamic batching on.
func BenchmarkPredictBatchedParallel(b *testing.B) {
	for _, batching := range []bool{false, true} {
		name := "unbatched"
		if batching {
			name = "batched"
		}
		b.Run(name, func(b *testing.B) {
			reg := serving.NewRegistry(serving.Options{Batch: serving.BatchOptions{Enabled: batching, Window: 500e3, MaxBatch: 16}},
				serving.Embedded("gold", 0, models.Gold()))
			if err := reg.Load(context.Background()); err != nil {
				b.Fatal(err)
			}
			s, err := New(Config{CacheTTL: 0}, reg, cache.NewMemory(1))
			if err != nil {
				b.Fatal(err)
			}
			h := s.Handler()
			b.ReportAllocs()
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					req := httptest.NewRequest("POST", "/predict", strings.NewReader(predictBody(prices(60, float64(i)), "")))
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != 200 {
						b.Error(rec.Code)
						return
					}
				}
			})
		})
	}
}
