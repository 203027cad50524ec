package serving

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"sort"
	"time"
)

// Bundle files serving reads beside what package weights reads.
const (
	ScalerFile   = "scaler.json"
	BacktestFile = "backtest.json"
)

// LoadDir loads the bundle in dir; see LoadFS.
func LoadDir(ctx context.Context, dir, name string, version int64) (*Model, error) {
	m, err := LoadFS(ctx, os.DirFS(dir), name, version, nil)
	if err == nil {
		m.origin = dir
	}
	return m, err
}

// LoadFS loads a bundle (version 0: the manifest's version if it is an
// integer, else 1): the network through package weights (checksums and
// the manifest's self-test included), scaler.json (identity when absent; its
// window must equal the model's time steps) and backtest.json (no intervals
// when absent). It then warms the model up (one batch through the whole
// pipeline, which must give finite values) before returning it. obs, if not
// nil, is told about every forward pass.
func LoadFS(ctx context.Context, fsys fs.FS, name string, version int64, obs ForwardObserver) (*Model, error) {
	fp, err := fingerprint(fsys)
	if err != nil {
		return nil, err
	}
	net, _, mver, err := loadNet(fsys)
	if err != nil {
		return nil, err
	}
	if version <= 0 {
		version = manifestVersion(mver)
	}
	in := net.InputShape()
	if len(in) != 2 {
		return nil, fmt.Errorf("model input shape %v: want (time steps, features)", in)
	}
	m := &Model{
		name:        name,
		version:     version,
		fingerprint: fp,
		net:         net,
		window:      in[0],
		features:    in[1],
		outSize:     net.OutputShape().Size(),
		pipe:        identity{},
		observe:     obs,
	}
	if b, err := fs.ReadFile(fsys, ScalerFile); err == nil {
		p, err := loadPipeline(b, m.window, m.features, m.outSize)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ScalerFile, err)
		}
		m.pipe = p
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", ScalerFile, err)
	}
	if b, err := fs.ReadFile(fsys, BacktestFile); err == nil {
		bt, err := ParseBacktest(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", BacktestFile, err)
		}
		m.backtest = bt
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", BacktestFile, err)
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

// fingerprint hashes every regular file of the bundle (path and contents, in
// path order), so any change to the model, weights, scaler or backtest gives
// a new fingerprint.
func fingerprint(fsys fs.FS) (string, error) {
	var paths []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("bundle: %w", err)
	}
	sort.Strings(paths)
	h := sha256.New()
	for _, p := range paths {
		f, err := fsys.Open(p)
		if err != nil {
			return "", fmt.Errorf("bundle: %w", err)
		}
		fmt.Fprintf(h, "%s\x00", p)
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("bundle: %s: %w", p, err)
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
