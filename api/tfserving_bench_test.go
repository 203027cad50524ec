package api

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/serving"
)

// checkedRegistry serves the bench model (testdata/bench/gold, no scaler)
// with a minmax input scaler fitted on [1000, 3000] and raw-value training
// statistics of prices(): a model whose input tensors the TF Serving and
// OIP routes check.
func checkedRegistry(tb testing.TB) *serving.Registry {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "gold")
	if err := os.CopyFS(dir, os.DirFS("../testdata/bench/gold")); err != nil {
		tb.Fatal(err)
	}
	var rows [][]float64
	for s := range 40 {
		for _, v := range prices(60, float64(s)) {
			rows = append(rows, []float64{v})
		}
	}
	ts, err := serving.ComputeTrainingStats(rows, 60, []string{"price"}, false)
	if err != nil {
		tb.Fatal(err)
	}
	stats, err := ts.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	const mm = `{"kind":"minmax","feature_range":[0,1],"clip":false,"data_min":[1000],"data_max":[3000],"scale":[0.0005],"min":[-0.5]}`
	for name, b := range map[string][]byte{
		serving.TrainingStatsFile: stats,
		serving.ScalerFile:        []byte(`{"format":"seqcast-scaler/1","window":60,"input":` + mm + `,"output":` + mm + `}`),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	reg := serving.NewRegistry(serving.Options{}, serving.BundleDir("gold", 1, dir))
	if err := reg.Load(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return reg
}

// tfTensorBody is a :predict body of one 60-step window scaled into the
// checked model's [0, 1] (in range).
func tfTensorBody(seed float64) string {
	var b strings.Builder
	b.WriteString(`{"instances":[[`)
	for i, v := range prices(60, seed) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatFloat((v-1000)/2000, 'f', 6, 64))
	}
	b.WriteString(`]]}`)
	return b.String()
}

// BenchmarkTFPredictUncached is POST /v1/models/gold:predict (never cached)
// for one sample: "gold", the embedded z-scored model, whose tensors cannot
// be checked; "checked", a model with a minmax scaler and raw training
// statistics, whose every sample is mapped back and checked.
func BenchmarkTFPredictUncached(b *testing.B) {
	golden, err := goldRegistry()
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		reg  *serving.Registry
	}{
		{"gold", golden},
		{"checked", checkedRegistry(b)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, err := New(Config{CacheTTL: 0}, tc.reg, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			h := s.Handler()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				req := httptest.NewRequest("POST", "/v1/models/gold:predict", strings.NewReader(tfTensorBody(float64(i%400)/10)))
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 || strings.Contains(rec.Body.String(), "warnings") {
					b.Fatal(rec.Code, rec.Body.String())
				}
			}
		})
	}
}
