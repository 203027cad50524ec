package serving

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// twoVersions is a models dir with gold/1 and gold/2, both the bench model.
func twoVersions(t testing.TB) string {
	root := t.TempDir()
	for _, v := range []string{"1", "2"} {
		copyDir(t, benchGold, filepath.Join(root, "gold", v), nil)
	}
	return root
}

func TestRollout(t *testing.T) {
	root := twoVersions(t)
	ctx := context.Background()
	reg := NewRegistry(Options{Admission: NewAdmission(AdmissionOptions{}), Models: map[string]ModelOptions{
		"gold": {DefaultVersion: 1, Canary: 2, CanaryPercent: 10, Shadow: 2, ShadowRate: 1}}}, ModelsDir(root))
	if err := reg.Load(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := reg.Status("gold")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Rollout{Canary: 2, CanaryPercent: 10, Shadow: 2, ShadowRate: 1}); st.Rollout != want {
		t.Fatalf("status %+v, want %+v", st.Rollout, want)
	}
	def, _ := reg.Get("gold", 0)
	v2, _ := reg.Get("gold", 2)
	canary := 0
	for h := uint64(0); h < 10000; h++ {
		switch reg.Route(def, h) {
		case v2:
			canary++
		case def:
		default:
			t.Fatal("route gave neither version")
		}
	}
	if canary != 1000 {
		t.Errorf("%d of 10000 hashes to the canary, want 1000", canary)
	}
	if reg.Route(v2, 0) != v2 || reg.ShadowOf(v2) != nil {
		t.Error("a version that is not the default is routed or shadowed")
	}
	sm := reg.ShadowOf(def)
	if sm == nil || sm.Version() != 2 || sm.adm != nil || sm.batch != nil {
		t.Fatalf("shadow %+v: want version 2 outside admission and batching", sm)
	}
	for _, tc := range []struct {
		o    ModelOptions
		want string
	}{
		{ModelOptions{Canary: 7, CanaryPercent: 10}, "canary version 7 is not loaded (loaded: 1, 2)"},
		{ModelOptions{Shadow: 7}, "shadow version 7 is not loaded (loaded: 1, 2)"},
		{ModelOptions{Canary: 2, CanaryPercent: 101}, "canary percent 101: want a number from 0 to 100"},
		{ModelOptions{Shadow: 2, ShadowRate: -0.5}, "shadow rate -0.5: want a number from 0 to 1"},
	} {
		err := NewRegistry(Options{Models: map[string]ModelOptions{"gold": tc.o}}, ModelsDir(root)).Load(ctx)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}
}

func TestRolloutConfigFile(t *testing.T) {
	c, err := ParseModelConfig([]byte("shadow: 2\nshadow_rate: 0.25\ncanary:\n  version: 2\n  percent: 5\n"))
	if err != nil {
		t.Fatal(err)
	}
	o, err := c.modelOptions("gold")
	if err != nil || o.Shadow != 2 || o.ShadowRate != 0.25 || o.Canary != 2 || o.CanaryPercent != 5 {
		t.Fatalf("%+v %v", o, err)
	}
	if c, _ := ParseModelConfig([]byte("shadow: 2\n")); c != nil {
		if o, err := c.modelOptions("gold"); err != nil || o.ShadowRate != DefaultShadowRate {
			t.Errorf("shadow without shadow_rate: %+v %v, want rate %v", o, err, DefaultShadowRate)
		}
	}
	for in, want := range map[string]string{
		"canary:\n  version: 0\n  percent: 5\n":   "canary: version 0",
		"canary:\n  version: 2\n  percent: 500\n": "canary percent 500",
		"shadow: 2\nshadow_rate: 3\n":             "shadow rate 3",
		"canary:\n  versoin: 2\n":                 "versoin",
	} {
		c, err := ParseModelConfig([]byte(in))
		if err == nil {
			_, err = c.modelOptions("gold")
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
	_, err = mergeOptions("gold", ModelOptions{Shadow: 2}, true, &ModelOptions{Shadow: 1}, "model.yaml")
	if err == nil || !strings.Contains(err.Error(), "the shadow version set both") {
		t.Errorf("clash: %v", err)
	}
}

// blockingObserver holds the shadow worker inside its first observation
// until released.
type blockingObserver struct {
	mu       sync.Mutex
	counts   map[string]int
	entered  chan struct{}
	release  chan struct{}
	blockOne sync.Once
}

func (o *blockingObserver) ObserveShadow(_ string, _ int64, outcome string, _ []float64) {
	if outcome != ShadowDropped {
		o.blockOne.Do(func() { close(o.entered); <-o.release })
	}
	o.mu.Lock()
	o.counts[outcome]++
	o.mu.Unlock()
}

// TestShadowerDropsWhenFull: a busy shadow worker and a full queue drop a
// request at once, counted, instead of blocking the caller.
func TestShadowerDropsWhenFull(t *testing.T) {
	reg := NewRegistry(Options{Models: map[string]ModelOptions{"gold": {DefaultVersion: 1, Shadow: 2, ShadowRate: 1}}}, ModelsDir(twoVersions(t)))
	if err := reg.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	def, _ := reg.Get("gold", 0)
	sm := reg.ShadowOf(def)
	w := make([]float64, 60)
	for i := range w {
		w[i] = 0.3 + float64(i)*0.001
	}
	preds, err := def.Forecast(context.Background(), [][]float64{w}, 1)
	if err != nil {
		t.Fatal(err)
	}
	obs := &blockingObserver{counts: map[string]int{}, entered: make(chan struct{}), release: make(chan struct{})}
	s := NewShadower(1, 1, 0, obs)
	if !s.Submit(sm, [][]float64{w}, 1, false, preds) {
		t.Fatal("first submit dropped")
	}
	<-obs.entered // the worker is busy with the first
	if !s.Submit(sm, [][]float64{w}, 1, false, preds) {
		t.Fatal("second submit dropped: the queue holds one")
	}
	if s.Submit(sm, [][]float64{w}, 1, false, preds) {
		t.Fatal("third submit queued: the queue is full")
	}
	close(obs.release)
	s.Close()
	if obs.counts[ShadowDropped] != 1 || obs.counts[ShadowOK] < 1 {
		t.Errorf("counts %v", obs.counts)
	}
	if s.Submit(sm, [][]float64{w}, 1, false, preds) {
		t.Error("submit after Close queued")
	}
}

// BenchmarkShadowPrimaryCost is the primary's Forecast alone ("off"), and
// with every request also submitted to a shadow version ("on": the shadow
// worker computes beside it, a full queue drops): the difference is the
// shadow's cost to the primary (the Submit copy, and CPU the worker takes
// beside it: on a machine with few cores the two compete). "submit" is the
// response path's own share.
func BenchmarkShadowPrimaryCost(b *testing.B) {
	reg := NewRegistry(Options{Models: map[string]ModelOptions{"gold": {DefaultVersion: 1, Shadow: 2, ShadowRate: 1}}}, ModelsDir(twoVersions(b)))
	ctx := context.Background()
	if err := reg.Load(ctx); err != nil {
		b.Fatal(err)
	}
	def, _ := reg.Get("gold", 0)
	w := make([]float64, 60)
	for i := range w {
		w[i] = 0.3 + float64(i)*0.001
	}
	ws := [][]float64{w}
	// The response path's own cost: Submit (the copy and a channel send, or
	// a drop when the queue is full).
	b.Run("submit", func(b *testing.B) {
		s := NewShadower(16, 1, 0, nil)
		defer s.Close()
		preds, err := def.Forecast(ctx, ws, 1)
		if err != nil {
			b.Fatal(err)
		}
		sm := reg.ShadowOf(def)
		b.ReportAllocs()
		for b.Loop() {
			s.Submit(sm, ws, 1, false, preds)
		}
	})
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			s := NewShadower(16, 1, 0, nil)
			defer s.Close()
			b.ReportAllocs()
			for b.Loop() {
				preds, err := def.Forecast(ctx, ws, 1)
				if err != nil {
					b.Fatal(err)
				}
				if on {
					s.Submit(reg.ShadowOf(def), ws, 1, false, preds)
				}
			}
		})
	}
}

// TestRolloutReload: a reload that would lose the canary version fails and
// keeps the previous versions, canary included.
func TestRolloutReload(t *testing.T) {
	root := twoVersions(t)
	ctx := context.Background()
	reg := NewRegistry(Options{Models: map[string]ModelOptions{"gold": {DefaultVersion: 1, Canary: 2, CanaryPercent: 50}}}, ModelsDir(root))
	if err := reg.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(root, "gold", "2")); err != nil {
		t.Fatal(err)
	}
	if err := reg.Reload(ctx, "gold"); err == nil || !strings.Contains(err.Error(), "canary version 2 is not loaded") {
		t.Fatalf("reload: %v", err)
	}
	if st, _ := reg.Status("gold"); st.Canary != 2 || len(st.Versions) != 2 {
		t.Errorf("after a failed reload: %+v", st)
	}
}

// recordingObserver keeps every shadow outcome and divergence.
type recordingObserver struct {
	mu       sync.Mutex
	outcomes []string
	div      []float64
	done     chan struct{}
}

func (o *recordingObserver) ObserveShadow(_ string, _ int64, outcome string, div []float64) {
	o.mu.Lock()
	o.outcomes = append(o.outcomes, outcome)
	o.div = append(o.div, div...)
	o.mu.Unlock()
	o.done <- struct{}{}
}

// TestShadowerRaw: a raw job runs the model input tensor on the shadow
// version and compares every output element with the primary's: zero for
// an identical version, the relative difference otherwise; a tensor the
// shadow cannot take is an error, never the caller's.
func TestShadowerRaw(t *testing.T) {
	reg := NewRegistry(Options{Models: map[string]ModelOptions{"gold": {DefaultVersion: 1, Shadow: 2, ShadowRate: 1}}}, ModelsDir(twoVersions(t)))
	ctx := context.Background()
	if err := reg.Load(ctx); err != nil {
		t.Fatal(err)
	}
	def, _ := reg.Get("gold", 0)
	sm := reg.ShadowOf(def)
	const n = 3
	x := make([]float32, n*60)
	for i := range x {
		x[i] = 0.3 + float32(i%60)*0.001 + float32(i/60)*0.05
	}
	y, err := def.Raw(ctx, x, n)
	if err != nil {
		t.Fatal(err)
	}
	obs := &recordingObserver{done: make(chan struct{}, 4)}
	s := NewShadower(4, 1, 0, obs)
	defer s.Close()
	off := make([]float32, len(y))
	for i, v := range y {
		off[i] = v + 0.5
	}
	for _, primary := range [][]float32{y, off} {
		if !s.SubmitRaw(sm, [][]float32{x}, n, [][]float32{primary}) {
			t.Fatal("dropped")
		}
		<-obs.done
	}
	if !s.SubmitRaw(sm, [][]float32{x[:60]}, n, [][]float32{y}) { // 1 sample's values for 3
		t.Fatal("dropped")
	}
	<-obs.done
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if want := []string{ShadowOK, ShadowOK, ShadowError}; strings.Join(obs.outcomes, " ") != strings.Join(want, " ") {
		t.Fatalf("outcomes %v, want %v", obs.outcomes, want)
	}
	if len(obs.div) != 2*n {
		t.Fatalf("%d divergences, want %d", len(obs.div), 2*n)
	}
	for i := range n {
		if obs.div[i] != 0 {
			t.Errorf("identical shadow: divergence %v", obs.div[i])
		}
		if want := Divergence(float64(y[i]), float64(off[i])); obs.div[n+i] != want || want == 0 {
			t.Errorf("sample %d: divergence %v, want %v", i, obs.div[n+i], want)
		}
	}
}
