package serving

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// TestLoadLogStateful: the load log names the stateful RNNs of a model saved
// with stateful=True and says each request starts from a zero state; a
// model without them logs nothing of the kind.
func TestLoadLogStateful(t *testing.T) {
	var buf bytes.Buffer
	reg := NewRegistry(Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))},
		BundleDir("stateful", 0, "../parity/testdata/golden/lstm_stateful_batch1_k2_12"),
		BundleDir("gold", 0, benchGold))
	if err := reg.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	var st, gold string
	for _, line := range strings.Split(buf.String(), "\n") {
		switch {
		case strings.Contains(line, "model=stateful"):
			st = line
		case strings.Contains(line, "model=gold"):
			gold = line
		}
	}
	if !strings.Contains(st, "stateful_layers=lstm,gru") || !strings.Contains(st, "zero at every request") {
		t.Errorf("load log of the stateful model: %q", st)
	}
	if gold == "" || strings.Contains(gold, "stateful") {
		t.Errorf("load log of the gold model: %q", gold)
	}
	m, err := reg.Get("stateful", 0)
	if err != nil {
		t.Fatal(err)
	}
	if y, err := m.Raw(context.Background(), make([]float32, 5*4*3), 5); err != nil || len(y) != 5 {
		t.Errorf("a batch of 5 through batch_input_shape (1, 4, 3): %v, %v", y, err)
	}
}
