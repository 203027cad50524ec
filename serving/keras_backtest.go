package serving

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/seqcast/seqcast/bundle"
)

// MaxBacktestSize bounds a backtest.json read beside a Keras file.
const MaxBacktestSize = 4 << 20

// backtestBeside is the backtest.json that goes with a Keras file: the one
// in the same folder, when that folder holds no other Keras file (a models
// dir's version folder, or a folder of its own); "" when there is none.
// `seqcast backtest --out` writes it there.
func backtestBeside(kerasPath string) string {
	dir := filepath.Dir(kerasPath)
	p := filepath.Join(dir, BacktestFile)
	if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
		return ""
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	for _, e := range ents {
		if n := e.Name(); isKerasFile(n) && n != filepath.Base(kerasPath) && n[0] != '.' {
			return "" // whose would it be?
		}
	}
	return p
}

// withBacktest adds the file at path (if any) to b as backtest.json, so
// the model's intervals and fingerprint come from it like a bundle's.
func withBacktest(b *bundle.Bundle, path string) (*bundle.Bundle, error) {
	if path == "" {
		return b, nil
	}
	if _, ok := b.File(BacktestFile); ok {
		return b, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, &bundle.Error{Origin: b.Origin(), File: path, Reason: "cannot read", Err: err}
	}
	if st.Size() > MaxBacktestSize {
		return nil, &bundle.Error{Origin: b.Origin(), File: path, Reason: fmt.Sprintf("is %d bytes, more than the %d allowed", st.Size(), MaxBacktestSize)}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &bundle.Error{Origin: b.Origin(), File: path, Reason: "cannot read", Err: err}
	}
	files := map[string][]byte{BacktestFile: data}
	for _, n := range b.Names() {
		d, _ := b.File(n)
		files[n] = d
	}
	return bundle.New(b.Origin(), files)
}
