package serving

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// Dynamic batching defaults (see BatchOptions).
const (
	DefaultBatchWindow = 500 * time.Microsecond
	DefaultBatchMax    = 16
)

// BatchOptions configures dynamic batching: small forward passes (single
// predictions, one step of a recursive forecast, small raw requests) that
// arrive close together are merged into one pass over the network, the way
// Triton and TF Serving batch.
//
// Every model version has its own collector goroutine (started on demand, and
// gone once its queue is empty), so a reload never strands a request: the
// requests queued on the old version finish there.
type BatchOptions struct {
	// Enabled turns batching on.
	Enabled bool
	// Window is how long the oldest queued request may wait for companions
	// while a worker is free and another pass is running (a request on an
	// idle model goes at once; one waits longer only while every worker is
	// busy, which is when batches fill by themselves). 0 sends whatever is
	// queued as soon as a worker is free.
	Window time.Duration
	// MaxBatch caps the samples of one merged pass (default
	// DefaultBatchMax); passes of MaxBatch/2 samples or more skip the queue.
	MaxBatch int
	// Workers caps the merged passes running at once (default
	// runtime.GOMAXPROCS(0)).
	Workers int
}

// BatchObserver is told about every merged forward pass: how many samples it
// carried and how long each of its requests waited in the queue.
type BatchObserver func(model string, version int64, samples int, waits []time.Duration)

// batcher merges small forward passes of one model version.
type batcher struct {
	m      *Model
	window time.Duration
	max    int
	obs    BatchObserver
	slots  chan struct{} // one token per running pass
	inLen  int           // model input values per sample
	outLen int           // model output values per sample

	mu      sync.Mutex
	queue   []*batchJob
	queued  int // samples in queue
	running bool
	wake    chan struct{} // cap 1: the queue reached max

	bufs sync.Pool // *batchBufs
	jobs sync.Pool // *batchJob
}

type batchJob struct {
	x, y  []float32
	n     int
	enq   time.Time
	taken bool // guarded by batcher.mu
	err   error
	done  chan struct{} // cap 1
}

type batchBufs struct{ x, y []float32 }

func newBatcher(m *Model, o BatchOptions, obs BatchObserver) *batcher {
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultBatchMax
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Window < 0 {
		o.Window = 0
	}
	return &batcher{
		m: m, window: o.Window, max: o.MaxBatch, obs: obs,
		slots:  make(chan struct{}, o.Workers),
		inLen:  m.window * m.features,
		outLen: m.outSize,
		wake:   make(chan struct{}, 1),
	}
}

// admits reports whether a pass of n samples goes through the queue.
func (b *batcher) admits(n int) bool { return n > 0 && 2*n <= b.max }

// do runs the network on n samples (x) into y through the queue. A request
// whose ctx ends while it is still queued is dropped (ctx.Err()); once its
// pass has started it waits for the pass (a few milliseconds at most).
func (b *batcher) do(ctx context.Context, y, x []float32, n int) error {
	j, _ := b.jobs.Get().(*batchJob)
	if j == nil {
		j = &batchJob{done: make(chan struct{}, 1)}
	}
	j.x, j.y, j.n, j.taken, j.err = x, y, n, false, nil
	j.enq = time.Now()
	b.mu.Lock()
	b.queue = append(b.queue, j)
	b.queued += n
	if !b.running {
		b.running = true
		go b.collect()
	} else if b.queued >= b.max {
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
	b.mu.Unlock()
	select {
	case <-j.done:
	case <-ctx.Done():
		b.mu.Lock()
		if !j.taken {
			for i, q := range b.queue {
				if q == j {
					b.queue = append(b.queue[:i], b.queue[i+1:]...)
					b.queued -= n
					break
				}
			}
			b.mu.Unlock()
			j.x, j.y = nil, nil
			b.jobs.Put(j)
			return ctx.Err()
		}
		b.mu.Unlock()
		<-j.done
	}
	err := j.err
	j.x, j.y, j.err = nil, nil, nil
	b.jobs.Put(j)
	return err
}

// collect is the version's collector: it waits for a free worker, lets the
// oldest request wait up to the window for companions (or until MaxBatch
// samples are queued), takes up to MaxBatch samples and hands them to a
// worker. It returns when the queue is empty.
func (b *batcher) collect() {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		b.slots <- struct{}{} // a worker is free
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.running = false
			b.mu.Unlock()
			<-b.slots
			return
		}
		// Wait for companions only while another pass runs: a lone request
		// on an idle model (low load) goes at once, costing no latency.
		for b.window > 0 && b.queued < b.max && len(b.slots) > 1 {
			wait := time.Until(b.queue[0].enq.Add(b.window))
			if wait <= 0 {
				break
			}
			select { // drain a stale wake-up
			case <-b.wake:
			default:
			}
			b.mu.Unlock()
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case <-b.wake:
				timer.Stop()
			case <-timer.C:
			}
			b.mu.Lock()
			if len(b.queue) == 0 { // every queued request was cancelled
				break
			}
		}
		if len(b.queue) == 0 {
			b.mu.Unlock()
			<-b.slots
			continue
		}
		var batch []*batchJob
		samples, k := 0, 0
		for k < len(b.queue) && samples+b.queue[k].n <= b.max {
			j := b.queue[k]
			j.taken = true
			samples += j.n
			batch = append(batch, j)
			k++
		}
		rest := copy(b.queue, b.queue[k:])
		clear(b.queue[rest:])
		b.queue = b.queue[:rest]
		b.queued -= samples
		b.mu.Unlock()
		go b.run(batch, samples)
	}
}

// run is one merged pass; it frees its worker slot when done. A panic in
// the pass (a bug) becomes every request's error instead of killing the
// process: the pass runs on this goroutine, not the requests'.
func (b *batcher) run(batch []*batchJob, samples int) {
	start := time.Now()
	var err error
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("serving: model %q version %d: panic in a batched pass: %v", b.m.name, b.m.version, p)
		}
		for _, j := range batch {
			if err != nil {
				j.err = fmt.Errorf("batched pass of %d samples: %w", samples, err)
			}
			j.done <- struct{}{}
		}
		<-b.slots
	}()
	if len(batch) == 1 { // nothing to merge: run on the request's own buffers
		j := batch[0]
		err = b.m.forwardDirect(j.y, j.x, j.n)
	} else {
		bufs, _ := b.bufs.Get().(*batchBufs)
		if bufs == nil {
			bufs = &batchBufs{x: make([]float32, b.max*b.inLen), y: make([]float32, b.max*b.outLen)}
		}
		x, y := bufs.x[:samples*b.inLen], bufs.y[:samples*b.outLen]
		off := 0
		for _, j := range batch {
			copy(x[off*b.inLen:], j.x[:j.n*b.inLen])
			off += j.n
		}
		err = b.m.forwardDirect(y, x, samples)
		off = 0
		for _, j := range batch {
			if err == nil {
				copy(j.y[:j.n*b.outLen], y[off*b.outLen:])
			}
			off += j.n
		}
		b.bufs.Put(bufs)
	}
	if b.obs != nil {
		waits := make([]time.Duration, len(batch))
		for i, j := range batch {
			waits[i] = start.Sub(j.enq)
		}
		b.obs(b.m.name, b.m.version, samples, waits)
	}
}
