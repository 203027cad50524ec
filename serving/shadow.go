package serving

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// DefaultShadowRate is the share of the default version's requests a shadow
// version runs unless --shadow-rate or shadow_rate says otherwise.
const DefaultShadowRate = 0.1

// Shadow outcomes, as ShadowObserver is told them.
const (
	ShadowOK      = "ok"      // the shadow answered; divergences follow
	ShadowError   = "error"   // the shadow failed (its error is not the client's)
	ShadowDropped = "dropped" // the shadow queue was full (or closed): not run
)

// shadowEps bounds the denominator of a relative divergence.
const shadowEps = 1e-9

// Rollout is a model's canary and shadow versions, as Status reports them
// (0: none).
type Rollout struct {
	Canary        int64
	CanaryPercent float64
	Shadow        int64
	ShadowRate    float64
}

// rollout is a loaded model set's canary and shadow versions.
type rollout struct {
	canary     *Model
	canaryPct  float64
	shadow     *Model // a copy of the version outside admission and batching
	shadowRate float64
}

func (r rollout) status() Rollout {
	var out Rollout
	if r.canary != nil {
		out.Canary, out.CanaryPercent = r.canary.version, r.canaryPct
	}
	if r.shadow != nil {
		out.Shadow, out.ShadowRate = r.shadow.version, r.shadowRate
	}
	return out
}

// validateRollout checks the canary and shadow settings that can be checked
// before any model is loaded.
func (o ModelOptions) validateRollout(name string) error {
	switch {
	case o.Shadow < 0:
		return fmt.Errorf("serving: model %q: shadow version %d: want a positive integer", name, o.Shadow)
	case !(o.ShadowRate >= 0 && o.ShadowRate <= 1):
		return fmt.Errorf("serving: model %q: shadow rate %v: want a number from 0 to 1", name, o.ShadowRate)
	case o.Canary < 0:
		return fmt.Errorf("serving: model %q: canary version %d: want a positive integer", name, o.Canary)
	case !(o.CanaryPercent >= 0 && o.CanaryPercent <= 100):
		return fmt.Errorf("serving: model %q: canary percent %v: want a number from 0 to 100", name, o.CanaryPercent)
	}
	return nil
}

// applyRollout sets set's canary and shadow versions, which must be loaded;
// a canary must take the default version's input shape, since the requests
// it gets were checked against that.
func (o ModelOptions) applyRollout(set *modelSet) error {
	set.rollout = rollout{}
	if o.Canary != 0 {
		m, ok := set.versions[o.Canary]
		if !ok {
			return fmt.Errorf("serving: model %q: canary version %d is not loaded (loaded: %s)", set.name, o.Canary, versionList(set.versions))
		}
		if a, b := shapes(m), shapes(set.def); a != b {
			return fmt.Errorf("serving: model %q: canary version %d maps %s, the default version %d maps %s: a canary must take and give the same shapes",
				set.name, o.Canary, a, set.def.version, b)
		}
		set.rollout.canary, set.rollout.canaryPct = m, o.CanaryPercent
	}
	if o.Shadow != 0 {
		m, ok := set.versions[o.Shadow]
		if !ok {
			return fmt.Errorf("serving: model %q: shadow version %d is not loaded (loaded: %s)", set.name, o.Shadow, versionList(set.versions))
		}
		cp := *m
		cp.adm, cp.batch = nil, nil // the shadow queue bounds its work; it never takes the primary's capacity
		set.rollout.shadow, set.rollout.shadowRate = &cp, o.ShadowRate
	}
	return nil
}

// Route returns the version a request that named no version gets, given m
// (the model's default version, from Get(name, 0)) and a hash of the
// request's input: the canary version for a share of hashes, else m. The
// same hash always gets the same version while the configuration stands.
func (r *Registry) Route(m *Model, hash uint64) *Model {
	set := r.state.Load().sets[m.name]
	if set == nil || set.def != m || set.rollout.canary == nil {
		return m
	}
	if float64(hash%10000) < set.rollout.canaryPct*100 {
		return set.rollout.canary
	}
	return m
}

// ShadowOf returns the shadow version of m's model when m is its default
// version and a sample draw says this request should also run on it; nil
// otherwise. The model returned runs outside admission and batching.
func (r *Registry) ShadowOf(m *Model) *Model {
	set := r.state.Load().sets[m.name]
	if set == nil || set.def != m || set.rollout.shadow == nil {
		return nil
	}
	if rate := set.rollout.shadowRate; rate < 1 && rand.Float64() >= rate {
		return nil
	}
	return set.rollout.shadow
}

// ShadowObserver is told the outcome of every shadow request: for ShadowOK,
// the relative divergence |shadow - primary| / max(|primary|, 1e-9) of every
// window's predicted value (Submit), or of every output element (SubmitRaw).
type ShadowObserver interface {
	ObserveShadow(model string, version int64, outcome string, divergences []float64)
}

// Shadower runs shadow requests off the response path: a small bounded
// queue and its own workers. A full queue drops the request (counted), so
// a slow or failing shadow never slows or fails an answer.
type Shadower struct {
	jobs    chan shadowJob
	done    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
	obs     ShadowObserver
	timeout time.Duration
}

type shadowJob struct {
	m       *Model
	windows [][]float64
	horizon int
	multi   bool
	primary []float64

	// A raw job (SubmitRaw): the model input tensors of n samples, one per
	// model input, and the primary's outputs, one per model output.
	xs         [][]float32
	n          int
	rawPrimary [][]float32
}

// NewShadower starts workers (at least 1) reading a queue of queue (at
// least 1) shadow requests; each runs under timeout (0: 30 s). obs may be
// nil. Close stops it.
func NewShadower(queue, workers int, timeout time.Duration, obs ShadowObserver) *Shadower {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	s := &Shadower{jobs: make(chan shadowJob, max(1, queue)), done: make(chan struct{}), obs: obs, timeout: timeout}
	for range max(1, workers) {
		s.wg.Add(1)
		go s.work()
	}
	return s
}

// Submit queues windows to run on the shadow version m (from
// Registry.ShadowOf) and be compared with primary, the primary version's
// predictions for them; multi says they are multivariate rows
// (PredictWindows) rather than series (Forecast). It never blocks: a full
// queue drops the request and reports false. windows are copied.
func (s *Shadower) Submit(m *Model, windows [][]float64, horizon int, multi bool, primary []Prediction) bool {
	if s == nil || m == nil {
		return false
	}
	j := shadowJob{m: m, windows: make([][]float64, len(windows)), horizon: horizon, multi: multi, primary: make([]float64, len(primary))}
	for i, w := range windows {
		j.windows[i] = append([]float64(nil), w...)
	}
	for i, p := range primary {
		j.primary[i] = p.Value
	}
	return s.submit(j)
}

// SubmitRaw queues n samples of model input (xs: one flat tensor per model
// input, as Raw or RawMulti take them) to run on the shadow version m and be
// compared, output element by output element, with primary, the primary
// version's raw outputs (one flat tensor per model output). It never
// blocks: a full queue drops the request and reports false. xs and primary
// are copied.
func (s *Shadower) SubmitRaw(m *Model, xs [][]float32, n int, primary [][]float32) bool {
	if s == nil || m == nil {
		return false
	}
	j := shadowJob{m: m, n: n, xs: make([][]float32, len(xs)), rawPrimary: make([][]float32, len(primary))}
	for i, x := range xs {
		j.xs[i] = append([]float32(nil), x...)
	}
	for i, y := range primary {
		j.rawPrimary[i] = append([]float32(nil), y...)
	}
	return s.submit(j)
}

// submit queues j unless the queue is full or closed.
func (s *Shadower) submit(j shadowJob) bool {
	select {
	case <-s.done:
	default:
		select {
		case s.jobs <- j:
			return true
		default:
		}
	}
	s.observe(j.m, ShadowDropped, nil)
	return false
}

// Close stops the workers after the request each is running; queued
// requests are dropped uncounted.
func (s *Shadower) Close() {
	if s == nil {
		return
	}
	s.once.Do(func() { close(s.done) })
	s.wg.Wait()
}

func (s *Shadower) work() {
	defer s.wg.Done()
	for {
		select {
		case <-s.done:
			return
		case j := <-s.jobs:
			s.run(j)
		}
	}
}

func (s *Shadower) run(j shadowJob) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	if j.xs != nil {
		s.runRaw(ctx, j)
		return
	}
	var preds []Prediction
	var err error
	if j.multi {
		preds, err = j.m.PredictWindows(ctx, j.windows, j.horizon)
	} else {
		preds, err = j.m.Forecast(ctx, j.windows, j.horizon)
	}
	if err == nil && len(preds) != len(j.primary) {
		err = fmt.Errorf("serving: shadow gave %d predictions for %d windows", len(preds), len(j.primary))
	}
	if err != nil {
		s.observe(j.m, ShadowError, nil)
		return
	}
	div := make([]float64, len(preds))
	for i, p := range preds {
		div[i] = Divergence(p.Value, j.primary[i])
	}
	s.observe(j.m, ShadowOK, div)
}

// runRaw runs a raw job and compares every output element.
func (s *Shadower) runRaw(ctx context.Context, j shadowJob) {
	var ys [][]float32
	var err error
	if j.m.MultiIO() {
		ys, err = j.m.RawMulti(ctx, j.xs, j.n)
	} else if len(j.xs) == 1 {
		var y []float32
		y, err = j.m.Raw(ctx, j.xs[0], j.n)
		ys = [][]float32{y}
	} else {
		err = fmt.Errorf("serving: shadow of a single-input model given %d inputs", len(j.xs))
	}
	size := 0
	if err == nil && len(ys) != len(j.rawPrimary) {
		err = fmt.Errorf("serving: shadow gave %d outputs, the primary %d", len(ys), len(j.rawPrimary))
	}
	for k := 0; err == nil && k < len(ys); k++ {
		if len(ys[k]) != len(j.rawPrimary[k]) {
			err = fmt.Errorf("serving: shadow output %d has %d values, the primary's %d", k, len(ys[k]), len(j.rawPrimary[k]))
		}
		size += len(ys[k])
	}
	if err != nil {
		s.observe(j.m, ShadowError, nil)
		return
	}
	div := make([]float64, 0, size)
	for k, y := range ys {
		for i, v := range y {
			div = append(div, Divergence(float64(v), float64(j.rawPrimary[k][i])))
		}
	}
	s.observe(j.m, ShadowOK, div)
}

func (s *Shadower) observe(m *Model, outcome string, div []float64) {
	if s.obs != nil {
		s.obs.ObserveShadow(m.name, m.version, outcome, div)
	}
}

// Divergence is the relative difference of a shadow answer from the
// primary's: |shadow - primary| / max(|primary|, 1e-9).
func Divergence(shadow, primary float64) float64 {
	return math.Abs(shadow-primary) / math.Max(math.Abs(primary), shadowEps)
}

// shapes describes m's input and output shapes for a message; a multi-IO
// model's named tensors are listed, so that a canary taking other tensors
// is refused.
func shapes(m *Model) string {
	if m.MultiIO() {
		return fmt.Sprintf("%s to %s", tensorShapes(m.inputs), tensorShapes(m.outputs))
	}
	return fmt.Sprintf("%v to %v (%d inputs)", m.net.InputShape(), m.net.OutputShape(), max(1, len(m.inputs)))
}

func tensorShapes(ts []Tensor) string {
	var b []byte
	for i, t := range ts {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = fmt.Appendf(b, "%s %v", t.Name, t.Shape)
	}
	return "[" + string(b) + "]"
}
