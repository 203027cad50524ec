package nn

import (
	"runtime"
	"sync"
	"time"
)

// Workspace pool defaults (see Model.SetWorkspacePool).
const (
	// DefaultWorkspaceIdle is how long an idle workspace is kept: one not
	// reused for this long is released (dropped for the GC) at most this
	// long again later, so memory returns to its idle level within
	// 2*DefaultWorkspaceIdle of the last forward pass of a burst.
	DefaultWorkspaceIdle = 2 * time.Second
)

// DefaultMaxIdleWorkspaces is the most idle workspaces a model keeps by
// default: two per processor, what GOMAXPROCS passes at once (and as many
// waiting to run) need. Passes beyond it get a workspace of their own, given
// to the GC when they finish.
func DefaultMaxIdleWorkspaces() int { return 2 * runtime.GOMAXPROCS(0) }

// workspace holds one forward pass's buffers: each node's output and the
// largest scratch any layer asks for. It grows to the largest chunk seen
// (at most 64 samples).
type workspace struct {
	n       int
	outs    [][]float32
	scratch []float32
	ins     [][]float32
	xs      [][]float32 // ForwardMulti: one chunk of each model input
	masks   [][]float32 // per Masking node: n*T mask values
	used    time.Time   // when it was last given back (idle since)
}

// wsPool keeps a model's idle workspaces: at most maxIdle of them, each
// released once idle for longer than idle. A sync.Pool would drop them at
// every GC; a free list that never shrinks kept one per simultaneous pass of
// the largest burst ever seen (issue 13: 665 MB after 1,000 concurrent
// requests). Trimming runs on a timer armed when a workspace is given back
// and left unarmed once the list is empty: no goroutine lives with the model.
type wsPool struct {
	mu      sync.Mutex
	free    []*workspace // idle; oldest first (a get takes the newest)
	maxIdle int          // 0: DefaultMaxIdleWorkspaces()
	idle    time.Duration
	timer   *time.Timer
	armed   bool
}

// SetWorkspacePool bounds the model's idle workspaces: at most maxIdle are
// kept (0: DefaultMaxIdleWorkspaces()), and each is released after idle
// without use (0: DefaultWorkspaceIdle). Call it before the model serves.
func (m *Model) SetWorkspacePool(maxIdle int, idle time.Duration) {
	m.pool.mu.Lock()
	m.pool.maxIdle, m.pool.idle = maxIdle, idle
	m.pool.mu.Unlock()
}

// IdleWorkspaces is how many idle workspaces the model holds.
func (m *Model) IdleWorkspaces() int {
	m.pool.mu.Lock()
	defer m.pool.mu.Unlock()
	return len(m.pool.free)
}

func (p *wsPool) limits() (int, time.Duration) {
	n, d := p.maxIdle, p.idle
	if n <= 0 {
		n = DefaultMaxIdleWorkspaces()
	}
	if d <= 0 {
		d = DefaultWorkspaceIdle
	}
	return n, d
}

func (m *Model) getWorkspace(n int) *workspace {
	p := &m.pool
	p.mu.Lock()
	var ws *workspace
	if k := len(p.free); k > 0 {
		ws = p.free[k-1]
		p.free[k-1] = nil
		p.free = p.free[:k-1]
	}
	p.mu.Unlock()
	if ws == nil {
		ws = new(workspace)
	}
	if ws.n < n {
		ws.outs = make([][]float32, len(m.nodes))
		maxScratch, maxIns := 0, 0
		for i, nd := range m.nodes {
			if !m.direct || i < len(m.nodes)-1 {
				ws.outs[i] = make([]float32, n*m.shapes[i].Size())
			}
			maxScratch = max(maxScratch, nd.Layer.ScratchSize(n))
			maxIns = max(maxIns, len(nd.Inputs))
		}
		ws.scratch = make([]float32, maxScratch)
		if m.hasMask {
			ws.masks = make([][]float32, len(m.nodes))
			for i, nd := range m.nodes {
				if p, ok := nd.Layer.(maskProducer); ok {
					ws.masks[i] = make([]float32, n*p.maskSteps())
				}
			}
		}
		ws.ins = make([][]float32, maxIns)
		ws.xs = make([][]float32, len(m.inputs))
		ws.n = n
	}
	return ws
}

// putWorkspace gives ws back: kept for reuse while fewer than maxIdle are
// idle, else left to the GC.
func (m *Model) putWorkspace(ws *workspace) {
	clear(ws.ins)
	clear(ws.xs)
	p := &m.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	maxIdle, idle := p.limits()
	if len(p.free) >= maxIdle {
		return
	}
	ws.used = time.Now()
	p.free = append(p.free, ws)
	if !p.armed {
		p.armed = true
		if p.timer == nil {
			p.timer = time.AfterFunc(idle, p.trim)
		} else {
			p.timer.Reset(idle)
		}
	}
}

// trim releases the workspaces idle for longer than the pool's idle time and
// re-arms the timer for the oldest one left, if any.
func (p *wsPool) trim() {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, idle := p.limits()
	now := time.Now()
	k := 0
	for k < len(p.free) && now.Sub(p.free[k].used) >= idle {
		k++
	}
	rest := copy(p.free, p.free[k:])
	clear(p.free[rest:])
	p.free = p.free[:rest]
	if rest == 0 {
		p.armed = false
		p.free = nil // the slice's array goes too
		return
	}
	p.timer.Reset(p.free[0].used.Add(idle).Sub(now))
}
