package serving

import (
	"context"
	"fmt"
	"io/fs"
	"math"
	"time"

	"github.com/seqcast/seqcast/bundle"
	"github.com/seqcast/seqcast/layers"
	"github.com/seqcast/seqcast/weights"
)

// Bundle files serving reads beside what package weights reads.
const (
	ScalerFile   = "scaler.json"
	BacktestFile = "backtest.json"
)

// LoadDir reads the bundle in dir (bundle.ReadDir: links followed, the read
// verified) and builds its model; see New.
func LoadDir(ctx context.Context, dir, name string, version int64) (*Model, error) {
	b, err := bundle.ReadDir(dir, bundle.Options{})
	if err != nil {
		return nil, err
	}
	return New(ctx, b, name, version, nil)
}

// LoadFS reads every file of fsys (an embedded bundle, say) into memory and
// builds its model; see New.
func LoadFS(ctx context.Context, fsys fs.FS, name string, version int64, obs ForwardObserver) (*Model, error) {
	b, err := bundle.FromFS(fsys, "fs:"+name, bundle.Options{})
	if err != nil {
		return nil, err
	}
	return New(ctx, b, name, version, obs)
}

// New builds the served model of a bundle already read into memory
// (version 0: the manifest's version if it is an integer, else 1). It
// touches no filesystem: the network comes from package weights over the
// bundle's bytes (checksums and the manifest's self-test included),
// scaler.json (identity when absent; its window must equal the model's time
// steps, S*T for an input of (S, T, F): window.go) and backtest.json (no intervals when absent) from the same bytes,
// and the fingerprint is the bundle's, computed over exactly those bytes.
// The model is warmed up (one batch through the whole pipeline, which must
// give finite values) before it is returned. obs, if not nil, is told about
// every forward pass.
func New(ctx context.Context, b *bundle.Bundle, name string, version int64, obs ForwardObserver) (*Model, error) {
	return newModel(ctx, b, name, version, obs, nil)
}

// newModel is New with the layer classes custom adds (Options.Layers).
func newModel(ctx context.Context, b *bundle.Bundle, name string, version int64, obs ForwardObserver, custom layers.Set) (*Model, error) {
	wb, err := weights.LoadFSWith(b.FS(), weights.LoadOptions{Layers: custom})
	if err != nil {
		return nil, err
	}
	net := wb.Model
	if version <= 0 {
		var mver string
		if wb.Manifest != nil {
			mver = wb.Manifest.Version
		}
		version = manifestVersion(mver)
	}
	in := net.InputShape()
	if net.MultiIO() {
		return newMultiIO(ctx, b, wb, name, version, obs)
	}
	window, features, err := WindowShape(in)
	if err != nil {
		return nil, err
	}
	m := &Model{
		name:        name,
		version:     version,
		fingerprint: b.Fingerprint(),
		origin:      b.Origin(),
		net:         net,
		window:      window,
		features:    features,
		outSize:     net.OutputShape().Size(),
		pipe:        identity{},
		observe:     obs,
	}
	if data, ok := b.File(ScalerFile); ok {
		p, err := loadPipeline(data, m.window, m.features, m.outSize)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ScalerFile, err)
		}
		m.pipe = p
	}
	if data, ok := b.File(BacktestFile); ok {
		bt, err := ParseBacktest(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", BacktestFile, err)
		}
		m.backtest = bt
	}
	if data, ok := b.File(TrainingStatsFile); ok {
		ts, err := ParseTrainingStats(data, m.window, m.features)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", TrainingStatsFile, err)
		}
		m.monitor = newMonitor(ts)
	}
	if err := m.warmUp(ctx); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	m.loadedAt = time.Now()
	return m, nil
}

// warmUp runs the raw network on zeros at batch sizes 1 and 8 (sizing the
// workspace pool) and, for univariate models, one forecast through the
// scaler on a gently rising positive series: every output must be finite.
func (m *Model) warmUp(ctx context.Context) error {
	obs := m.observe
	m.observe = nil
	defer func() { m.observe = obs }()
	for _, n := range []int{1, 8} {
		if _, err := m.Raw(ctx, make([]float32, n*m.window*m.features), n); err != nil {
			return err
		}
	}
	if m.Univariate() {
		w := make([]float64, m.window)
		for i := range w {
			w[i] = 100 + 10*math.Sin(float64(i)/5) + float64(i)/10
		}
		if _, err := m.Forecast(ctx, [][]float64{w}, 2); err != nil {
			return err
		}
	}
	return nil
}
