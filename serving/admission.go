package serving

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// Admission control defaults (see AdmissionOptions).
const (
	// DefaultSmallWork is the largest request (samples × horizon steps) that
	// goes in the small lane: a /predict of up to 256 steps, or a batch of 8
	// windows at horizon 30.
	DefaultSmallWork = 256
	// DefaultMaxBodyBytes bounds the request bytes being read, decoded,
	// queued or computed at once (AdmitBytes).
	DefaultMaxBodyBytes = 24 << 20
	// DefaultMaxQueuedWork bounds the sample-steps waiting in the large
	// lane: about 17 maximum batches (1,000 windows, horizon 30).
	DefaultMaxQueuedWork = 1 << 19
)

// ShedReason says why a request was not computed.
type ShedReason string

// Reasons a request is shed (the "reason" label of seqcast_shed_requests_total).
const (
	// ShedDeadline: the request could not start (and finish) before its
	// deadline, or its deadline passed while it waited.
	ShedDeadline ShedReason = "deadline"
	// ShedQueueFull: its lane's queue held MaxQueuedWork sample-steps already.
	ShedQueueFull ShedReason = "queue_full"
	// ShedClientGone: the client went away (its context was cancelled)
	// before the work started, or the response could not be written.
	ShedClientGone ShedReason = "client_gone"
)

// OverloadError is a request that admission control did not compute: the
// HTTP layer answers it 503 with Retry-After (a client that has gone gets
// nothing). It wraps the context's error for ShedClientGone and ShedDeadline
// when the context ended.
type OverloadError struct {
	Model      string
	Reason     ShedReason
	Work       int           // samples × steps the request asked for
	RetryAfter time.Duration // when a retry is likely to be admitted
	err        error
}

func (e *OverloadError) Error() string {
	switch e.Reason {
	case ShedClientGone:
		return fmt.Sprintf("model %q: the client went away before its %d sample-steps were computed", e.Model, e.Work)
	case ShedQueueFull:
		return fmt.Sprintf("model %q is overloaded: the queue is full (%d sample-steps asked); retry in %s", e.Model, e.Work, e.RetryAfter.Round(time.Second))
	}
	return fmt.Sprintf("model %q is overloaded: %d sample-steps cannot be computed before the request's deadline; retry in %s", e.Model, e.Work, e.RetryAfter.Round(time.Second))
}

func (e *OverloadError) Unwrap() error { return e.err }

// AdmissionOptions configures admission control, shared by every model of a
// registry (the CPU is) and by every route that computes.
//
// The policy: a request weighs samples × horizon steps ("work"). Requests of
// at most SmallWork go in the small lane, larger ones in the large lane;
// each lane runs at most its number of slots at once, first come first
// served, and queues the rest. The small lane is never behind a large
// request, so a /predict keeps its latency (a share of a core) while large
// batches queue. A request is shed (OverloadError) instead of queued when
// its lane already holds MaxQueuedWork sample-steps (queue_full), or when,
// at the measured rate of the lane, it would not finish before its
// context's deadline (deadline); one whose deadline comes while it waits,
// or that would no longer finish in time when a slot frees, is shed then.
// A request whose context is cancelled (the client went away) leaves the
// queue at once and is never computed.
type AdmissionOptions struct {
	// Disabled turns admission control off: every request computes at once.
	Disabled bool
	// SmallWork is the most sample-steps of a small-lane request (default
	// DefaultSmallWork).
	SmallWork int
	// SmallSlots is how many small requests compute at once (default
	// 16×GOMAXPROCS: their passes are merged by dynamic batching, whose
	// merged passes carry up to --batch-size samples).
	SmallSlots int
	// LargeSlots is how many large requests compute at once (default
	// GOMAXPROCS: a forward pass runs on one core).
	LargeSlots int
	// MaxQueuedWork bounds the sample-steps waiting in each lane (default
	// DefaultMaxQueuedWork).
	MaxQueuedWork int
	// MaxBodyBytes bounds the bytes of the request bodies in progress at
	// once, from before they are read until their answer is written
	// (default DefaultMaxBodyBytes; see AdmitBytes).
	MaxBodyBytes int64
	// Queued, if set, is told the samples (windows, instances) waiting for
	// a model whenever that number changes: the seqcast_queued_samples gauge.
	Queued func(model string, samples int)
	// Shed, if set, is told about every request shed.
	Shed func(model string, reason ShedReason)
}

// Admission is admission control over forward work (see AdmissionOptions).
// A nil *Admission admits everything at once.
type Admission struct {
	o      AdmissionOptions
	mu     sync.Mutex
	small  lane
	large  lane
	queued map[string]int // samples waiting, by model
	bytes  byteGate
}

// byteGate is a first-come-first-served semaphore over request bytes.
type byteGate struct {
	max, used int64
	queue     []*byteWaiter
}

type byteWaiter struct {
	n     int64
	ready chan struct{}
	done  bool // granted (guarded by Admission.mu)
}

type lane struct {
	slots, running int
	runningWork    int
	queue          []*waiter
	queuedWork     int
	rate           float64 // seconds per sample-step of one running request (EWMA); 0: not measured yet
}

type waiter struct {
	model    string
	n, work  int
	ready    chan struct{} // closed when granted or shed
	err      error         // set before ready is closed: shed
	granted  bool
	deadline time.Time // zero: none
}

// NewAdmission returns admission control with o's settings (nil when
// o.Disabled).
func NewAdmission(o AdmissionOptions) *Admission {
	if o.Disabled {
		return nil
	}
	procs := runtime.GOMAXPROCS(0)
	if o.SmallWork <= 0 {
		o.SmallWork = DefaultSmallWork
	}
	if o.SmallSlots <= 0 {
		o.SmallSlots = 16 * procs
	}
	if o.LargeSlots <= 0 {
		o.LargeSlots = procs
	}
	if o.MaxQueuedWork <= 0 {
		o.MaxQueuedWork = DefaultMaxQueuedWork
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return &Admission{o: o, bytes: byteGate{max: o.MaxBodyBytes}, small: lane{slots: o.SmallSlots}, large: lane{slots: o.LargeSlots}, queued: map[string]int{}}
}

// Admit waits until a request of n samples and steps horizon steps for model
// may compute, and returns the function to call when it is done. It returns
// an *OverloadError when the request is shed. A nil Admission admits at once.
func (a *Admission) Admit(ctx context.Context, model string, n, steps int) (func(), error) {
	if a == nil {
		return func() {}, ctx.Err()
	}
	work := max(1, n*max(1, steps))
	if err := ctx.Err(); err != nil {
		return nil, a.shed(model, work, ctxReason(ctx), 0, err)
	}
	l := &a.large
	if work <= a.o.SmallWork {
		l = &a.small
	}
	now := time.Now()
	deadline, hasDeadline := ctx.Deadline()
	a.mu.Lock()
	run := time.Duration(float64(work) * l.rate * float64(time.Second))
	if l.running < l.slots && len(l.queue) == 0 {
		if hasDeadline && l.rate > 0 && now.Add(run).After(deadline) {
			a.mu.Unlock()
			return nil, a.shed(model, work, ShedDeadline, run, nil)
		}
		l.running++
		l.runningWork += work
		a.mu.Unlock()
		return a.releaser(l, work), nil
	}
	wait := l.wait()
	if l.queuedWork+work > a.o.MaxQueuedWork && len(l.queue) > 0 {
		a.mu.Unlock()
		return nil, a.shed(model, work, ShedQueueFull, wait, nil)
	}
	if hasDeadline && l.rate > 0 && now.Add(wait+run).After(deadline) {
		a.mu.Unlock()
		return nil, a.shed(model, work, ShedDeadline, wait, nil)
	}
	w := &waiter{model: model, n: n, work: work, ready: make(chan struct{})}
	if hasDeadline {
		w.deadline = deadline
	}
	l.queue = append(l.queue, w)
	l.queuedWork += work
	a.addQueued(model, n)
	a.mu.Unlock()
	select {
	case <-w.ready:
	case <-ctx.Done():
		a.mu.Lock()
		if !w.granted && w.err == nil {
			for i, q := range l.queue {
				if q == w {
					l.queue = append(l.queue[:i], l.queue[i+1:]...)
					break
				}
			}
			l.queuedWork -= work
			a.addQueued(model, -n)
			wait := l.wait()
			a.mu.Unlock()
			return nil, a.shed(model, work, ctxReason(ctx), wait, ctx.Err())
		}
		a.mu.Unlock()
		<-w.ready
		if w.granted { // granted as the client left: give the slot back
			a.releaser(l, work)()
			return nil, a.shed(model, work, ctxReason(ctx), 0, ctx.Err())
		}
	}
	if w.err != nil {
		return nil, w.err
	}
	return a.releaser(l, work), nil
}

// ctxReason says why ctx ended: its deadline (also when a cancellation
// raced with it, as when the HTTP layer leaves a shared computation as its
// deadline passes) or its client.
func ctxReason(ctx context.Context) ShedReason {
	if dl, ok := ctx.Deadline(); errors.Is(ctx.Err(), context.DeadlineExceeded) || ok && !time.Now().Before(dl) {
		return ShedDeadline
	}
	return ShedClientGone
}

// wait estimates how long a request queued now waits for a slot.
func (l *lane) wait() time.Duration {
	if l.rate == 0 {
		return time.Second
	}
	ahead := float64(l.queuedWork) + float64(l.runningWork)/2
	return time.Duration(ahead * l.rate / float64(l.slots) * float64(time.Second))
}

func (a *Admission) shed(model string, work int, reason ShedReason, retry time.Duration, err error) error {
	if a.o.Shed != nil {
		a.o.Shed(model, reason)
	}
	return &OverloadError{Model: model, Reason: reason, Work: work, RetryAfter: max(retry, time.Second), err: err}
}

// addQueued changes a model's waiting samples (a.mu held).
func (a *Admission) addQueued(model string, d int) {
	v := a.queued[model] + d
	if v == 0 {
		delete(a.queued, model)
	} else {
		a.queued[model] = v
	}
	if a.o.Queued != nil {
		a.o.Queued(model, v)
	}
}

// QueuedSamples is how many samples wait for model.
func (a *Admission) QueuedSamples(model string) int {
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.queued[model]
}

// releaser returns the function that ends a granted request: it measures
// the lane's rate and hands the slot to the first waiter that can still
// finish before its deadline.
func (a *Admission) releaser(l *lane, work int) func() {
	start := time.Now()
	var once sync.Once
	return func() {
		once.Do(func() {
			d := time.Since(start)
			a.mu.Lock()
			defer a.mu.Unlock()
			l.running--
			l.runningWork -= work
			r := d.Seconds() / float64(work)
			if l.rate == 0 {
				l.rate = r
			} else {
				l.rate = 0.7*l.rate + 0.3*r
			}
			a.dispatch(l)
		})
	}
}

// dispatch starts queued requests while slots are free (a.mu held).
func (a *Admission) dispatch(l *lane) {
	now := time.Now()
	for l.running < l.slots && len(l.queue) > 0 {
		w := l.queue[0]
		l.queue[0] = nil
		l.queue = l.queue[1:]
		l.queuedWork -= w.work
		a.addQueued(w.model, -w.n)
		if len(l.queue) == 0 {
			l.queue = nil
		}
		if !w.deadline.IsZero() && l.rate > 0 && now.Add(time.Duration(float64(w.work)*l.rate*float64(time.Second))).After(w.deadline) {
			// It would not finish in time any more: the answer would be
			// for nobody.
			w.err = a.shed(w.model, w.work, ShedDeadline, l.wait(), nil)
			close(w.ready)
			continue
		}
		w.granted = true
		close(w.ready)
		l.running++
		l.runningWork += w.work
	}
}

// stopped turns the error of admitted work that its context ended part-way
// (the deadline passed, or the client left) into an *OverloadError, counted
// as shed: the HTTP layer answers 503 with Retry-After, not a bare
// cancellation. Any other error is returned as it is.
func (a *Admission) stopped(ctx context.Context, model string, work int, err error) error {
	if err == nil || ctx.Err() == nil || !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if a == nil {
		return &OverloadError{Model: model, Reason: ctxReason(ctx), Work: work, RetryAfter: time.Second, err: err}
	}
	a.mu.Lock()
	wait := a.large.wait()
	if work <= a.o.SmallWork {
		wait = a.small.wait()
	}
	a.mu.Unlock()
	return a.shed(model, work, ctxReason(ctx), wait, err)
}

// AdmitBytes waits until a request body of n bytes may be read (the HTTP
// layer calls it before reading and decoding a large body, and calls the
// function it returns once the answer is written): the bodies in progress
// stay within MaxBodyBytes, first come first served, so a flood of large
// requests costs memory and CPU for a bounded number of them at a time (the
// rest wait unread). A body larger than the whole budget goes alone. It
// returns an *OverloadError (ShedDeadline, or ShedClientGone) when ctx ends
// first. model labels the shed counter ("" before the body names one).
func (a *Admission) AdmitBytes(ctx context.Context, model string, n int64) (func(), error) {
	if a == nil || n <= 0 {
		return func() {}, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, a.shed(model, 0, ctxReason(ctx), 0, err)
	}
	g := &a.bytes
	a.mu.Lock()
	if len(g.queue) == 0 && (g.used+n <= g.max || g.used == 0) {
		g.used += n
		a.mu.Unlock()
		return a.bytesReleaser(n), nil
	}
	w := &byteWaiter{n: n, ready: make(chan struct{})}
	g.queue = append(g.queue, w)
	a.mu.Unlock()
	select {
	case <-w.ready:
		return a.bytesReleaser(n), nil
	case <-ctx.Done():
	}
	a.mu.Lock()
	if w.done { // granted as ctx ended: give it back
		a.mu.Unlock()
		a.bytesReleaser(n)()
	} else {
		for i, q := range g.queue {
			if q == w {
				g.queue = append(g.queue[:i], g.queue[i+1:]...)
				break
			}
		}
		a.grantBytes()
		a.mu.Unlock()
	}
	return nil, a.shed(model, 0, ctxReason(ctx), time.Second, ctx.Err())
}

func (a *Admission) bytesReleaser(n int64) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			a.mu.Lock()
			a.bytes.used -= n
			a.grantBytes()
			a.mu.Unlock()
		})
	}
}

// grantBytes admits waiting bodies in order while they fit (a.mu held).
func (a *Admission) grantBytes() {
	g := &a.bytes
	for len(g.queue) > 0 {
		w := g.queue[0]
		if g.used+w.n > g.max && g.used > 0 {
			return
		}
		g.queue[0] = nil
		g.queue = g.queue[1:]
		g.used += w.n
		w.done = true
		close(w.ready)
	}
	g.queue = nil
}
