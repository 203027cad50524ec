package nn

import (
	"sync"
	"testing"
	"time"
)

// TestWorkspacePoolBounded runs far more simultaneous passes than the pool
// keeps: afterwards at most maxIdle workspaces are idle, and once idle for
// the pool's idle time (plus the timer's slack) none is left; a pass after
// that still gives the same answer and steady state allocates nothing.
func TestWorkspacePoolBounded(t *testing.T) {
	m := goldModel(t)
	const maxIdle, idle = 3, 150 * time.Millisecond
	m.SetWorkspacePool(maxIdle, idle)
	x0, _ := goldInput(t)
	per := m.InputShape().Size()
	x := x0[:per]
	want, err := m.Predict(x, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		concurrent int
	}{{"burst-2", 2}, {"burst-40", 40}} {
		t.Run(tc.name, func(t *testing.T) {
			var wg sync.WaitGroup
			start := make(chan struct{})
			for g := 0; g < tc.concurrent; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					dst := make([]float32, 1)
					<-start
					for i := 0; i < 5; i++ {
						if err := m.Forward(dst, x, 1); err != nil {
							t.Error(err)
						}
					}
				}()
			}
			close(start)
			wg.Wait()
			if k := m.IdleWorkspaces(); k > maxIdle || k == 0 {
				t.Fatalf("after %d concurrent passes: %d idle workspaces, want 1 to %d", tc.concurrent, k, maxIdle)
			}
			deadline := time.Now().Add(2*idle + time.Second)
			for m.IdleWorkspaces() > 0 {
				if time.Now().After(deadline) {
					t.Fatalf("%d idle workspaces still held %v after the burst (idle time %v)", m.IdleWorkspaces(), 2*idle+time.Second, idle)
				}
				time.Sleep(10 * time.Millisecond)
			}
			got, err := m.Predict(x, 1)
			if err != nil || got[0] != want[0] {
				t.Fatalf("after trimming: %v, %v; want %v", got, err, want)
			}
			dst := make([]float32, 1)
			if a := testing.AllocsPerRun(20, func() { _ = m.Forward(dst, x, 1) }); a != 0 {
				t.Errorf("steady state: %v allocations per pass, want 0", a)
			}
		})
	}
}
