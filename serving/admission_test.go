package serving

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// admissionRecorder collects what admission control reports.
type admissionRecorder struct {
	mu     sync.Mutex
	queued map[string]int
	shed   map[ShedReason]int
}

func newRecorder() *admissionRecorder {
	return &admissionRecorder{queued: map[string]int{}, shed: map[ShedReason]int{}}
}

func (r *admissionRecorder) options(o AdmissionOptions) AdmissionOptions {
	o.Queued = func(model string, n int) { r.mu.Lock(); r.queued[model] = n; r.mu.Unlock() }
	o.Shed = func(_ string, reason ShedReason) { r.mu.Lock(); r.shed[reason]++; r.mu.Unlock() }
	return o
}

func (r *admissionRecorder) get(reason ShedReason) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.shed[reason]
}

func shedReason(t *testing.T, err error) ShedReason {
	t.Helper()
	var oe *OverloadError
	if !errors.As(err, &oe) {
		t.Fatalf("got %v, want an *OverloadError", err)
	}
	if oe.RetryAfter < time.Second {
		t.Errorf("RetryAfter %v, want at least 1s", oe.RetryAfter)
	}
	return oe.Reason
}

func TestAdmission(t *testing.T) {
	bg := context.Background()
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, a *Admission, r *admissionRecorder)
	}{
		{"queue full", func(t *testing.T, a *Admission, r *admissionRecorder) {
			rel, err := a.Admit(bg, "m", 100, 10) // runs
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(bg)
			defer cancel()
			done := make(chan error, 1)
			go func() { _, err := a.Admit(ctx, "m", 100, 10); done <- err }() // queues (1000 of 1500)
			waitFor(t, func() bool { return a.QueuedSamples("m") == 100 })
			if _, err := a.Admit(bg, "m", 100, 10); shedReason(t, err) != ShedQueueFull {
				t.Fatalf("third: %v", err)
			}
			cancel() // the queued client goes away
			if err := <-done; shedReason(t, err) != ShedClientGone || !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled: %v", err)
			}
			if a.QueuedSamples("m") != 0 || r.queued["m"] != 0 {
				t.Fatalf("queued after cancel: %d (gauge %d)", a.QueuedSamples("m"), r.queued["m"])
			}
			rel()
			if r.get(ShedQueueFull) != 1 || r.get(ShedClientGone) != 1 {
				t.Fatalf("shed %v", r.shed)
			}
		}},
		{"small lane beside a large queue", func(t *testing.T, a *Admission, r *admissionRecorder) {
			rel, err := a.Admit(bg, "m", 1000, 1)
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				rel2, err := a.Admit(bg, "m", 400, 1)
				if err == nil {
					rel2()
				}
			}()
			waitFor(t, func() bool { return a.QueuedSamples("m") == 400 })
			t0 := time.Now()
			relSmall, err := a.Admit(bg, "m", 1, 30) // 30 <= SmallWork: its own lane
			if err != nil || time.Since(t0) > 100*time.Millisecond {
				t.Fatalf("small request: %v after %v", err, time.Since(t0))
			}
			relSmall()
			rel()
			waitFor(t, func() bool { return a.QueuedSamples("m") == 0 })
		}},
		{"deadline passes while queued", func(t *testing.T, a *Admission, r *admissionRecorder) {
			rel, err := a.Admit(bg, "m", 1000, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer rel()
			ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
			defer cancel()
			_, err = a.Admit(ctx, "m", 1000, 1)
			if shedReason(t, err) != ShedDeadline || r.get(ShedDeadline) != 1 {
				t.Fatalf("%v; shed %v", err, r.shed)
			}
		}},
		{"cannot finish before the deadline", func(t *testing.T, a *Admission, r *admissionRecorder) {
			// Measure the lane: 1000 sample-steps took 100 ms.
			rel, _ := a.Admit(bg, "m", 1000, 1)
			time.Sleep(100 * time.Millisecond)
			rel()
			ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
			defer cancel()
			t0 := time.Now()
			_, err := a.Admit(ctx, "m", 1000, 1)
			if shedReason(t, err) != ShedDeadline || time.Since(t0) > 20*time.Millisecond {
				t.Fatalf("%v after %v; want an immediate deadline shed", err, time.Since(t0))
			}
		}},
		{"client already gone", func(t *testing.T, a *Admission, r *admissionRecorder) {
			ctx, cancel := context.WithCancel(bg)
			cancel()
			if _, err := a.Admit(ctx, "m", 1, 1); shedReason(t, err) != ShedClientGone {
				t.Fatal(err)
			}
		}},
		{"fifo after release", func(t *testing.T, a *Admission, r *admissionRecorder) {
			rel, _ := a.Admit(bg, "m", 1000, 1)
			got := make(chan int, 3)
			for i := 0; i < 3; i++ {
				waitFor(t, func() bool { return a.QueuedSamples("m") == i*300 })
				go func() {
					r, err := a.Admit(bg, "m", 300, 1)
					if err == nil {
						got <- i
						r()
					}
				}()
			}
			waitFor(t, func() bool { return a.QueuedSamples("m") == 900 })
			rel()
			for want := 0; want < 3; want++ {
				if i := <-got; i != want {
					t.Fatalf("started %d, want %d (first come, first served)", i, want)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecorder()
			a := NewAdmission(r.options(AdmissionOptions{LargeSlots: 1, SmallSlots: 2, MaxQueuedWork: 1500}))
			tc.run(t, a, r)
		})
	}
	if NewAdmission(AdmissionOptions{Disabled: true}) != nil {
		t.Fatal("a disabled admission control is not nil")
	}
	var none *Admission
	if rel, err := none.Admit(bg, "m", 1e6, 30); err != nil {
		t.Fatal(err)
	} else {
		rel()
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestAdmissionStopped: work its context ended part-way is an
// *OverloadError (deadline or client_gone) with a Retry-After, counted as
// shed; other errors pass through.
func TestAdmissionStopped(t *testing.T) {
	r := newRecorder()
	a := NewAdmission(r.options(AdmissionOptions{}))
	past, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	gone, cancelGone := context.WithCancel(context.Background())
	cancelGone()
	other := errors.New("a bug")
	for _, tc := range []struct {
		name string
		a    *Admission
		ctx  context.Context
		err  error
		want ShedReason // "": err itself
	}{
		{"deadline", a, past, context.DeadlineExceeded, ShedDeadline},
		{"client gone", a, gone, context.Canceled, ShedClientGone},
		{"no admission control", nil, gone, context.Canceled, ShedClientGone},
		{"other error", a, gone, other, ""},
		{"live context", a, context.Background(), context.Canceled, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.a.stopped(tc.ctx, "m", 30000, tc.err)
			if tc.want == "" {
				if got != tc.err {
					t.Fatalf("got %v, want %v unchanged", got, tc.err)
				}
				return
			}
			if shedReason(t, got) != tc.want || !errors.Is(got, tc.err) {
				t.Fatalf("got %v, want %s wrapping %v", got, tc.want, tc.err)
			}
		})
	}
	if r.get(ShedDeadline) != 1 || r.get(ShedClientGone) != 1 {
		t.Fatalf("shed %v, want one deadline and one client_gone (the nil Admission counts nothing)", r.shed)
	}
}

// TestAdmitBytes: bodies wait, first come first served, while the byte
// budget is spent; one whose deadline comes first is shed; a body larger
// than the whole budget goes alone.
func TestAdmitBytes(t *testing.T) {
	r := newRecorder()
	a := NewAdmission(r.options(AdmissionOptions{MaxBodyBytes: 100}))
	bg := context.Background()
	rel1, err := a.AdmitBytes(bg, "", 60)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bg, 30*time.Millisecond)
	defer cancel()
	if _, err := a.AdmitBytes(ctx, "", 60); shedReason(t, err) != ShedDeadline {
		t.Fatalf("over the budget past the deadline: %v", err)
	}
	got := make(chan error, 1)
	go func() {
		rel, err := a.AdmitBytes(bg, "", 60)
		if err == nil {
			rel()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("admitted over the budget: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	rel1()
	rel1() // twice is once
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	relBig, err := a.AdmitBytes(bg, "", 500)
	if err != nil {
		t.Fatalf("a body over the whole budget, alone: %v", err)
	}
	relBig()
	if a.bytes.used != 0 || len(a.bytes.queue) != 0 {
		t.Fatalf("budget left used %d, queue %d", a.bytes.used, len(a.bytes.queue))
	}
}
