package cache

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestRedisClusterReloadOnError checks that failed operations on a Cluster
// client ask for a slot-map reload, at most once per clusterReloadEvery,
// and that other clients and a closed client ask for none. (The failover
// itself, a master killed and its replica promoted, is exercised with real
// redis-server processes by deploy's TestFailoverHAProxyRedisCluster.)
func TestRedisClusterReloadOnError(t *testing.T) {
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer cluster.Close()
	if r := NewRedisClient(cluster, RedisOptions{}); r.Mode() != RedisCluster || r.reload == nil {
		t.Fatalf("NewRedisClient(*redis.ClusterClient): mode %q, reload set %v; want cluster, true", r.Mode(), r.reload != nil)
	}
	simple := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer simple.Close()
	if r := NewRedisClient(simple, RedisOptions{}); r.reload != nil {
		t.Fatal("a standalone client got a slot-map reload")
	}

	fail := errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	for _, tc := range []struct {
		name  string
		err   error
		calls int  // failed operations
		pause bool // wait clusterReloadEvery before the last one
		want  int64
	}{
		{"one error", fail, 1, false, 1},
		{"a burst is one reload", fail, 50, false, 1},
		{"again after the interval", fail, 3, true, 2},
		{"closed client: none", redis.ErrClosed, 5, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int64
			r := &Redis{reload: func() { n.Add(1) }}
			for i := range tc.calls {
				if tc.pause && i == tc.calls-1 {
					time.Sleep(clusterReloadEvery + 10*time.Millisecond)
				}
				_ = r.wrap("get", tc.err)
			}
			if got := n.Load(); got != tc.want {
				t.Errorf("%d reloads, want %d", got, tc.want)
			}
		})
	}
}
