package scaler

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseScaler feeds hostile scaler.json documents to Parse and, when one
// parses and checks against a small model shape, runs a window through
// ScaleWindow, InverseOutput, ScaleBatch and InverseBatch: none may panic,
// and Check must catch every feature index, window and width the transforms
// would trip over. Seeds: f.Add below, the golden files' scaler objects, the
// gold model's scaler.json and testdata/fuzz/FuzzParseScaler.
func FuzzParseScaler(f *testing.F) {
	seeds := []string{
		`{"format":"seqcast-scaler/1","window":4,"input":{"kind":"identity"},"output":{"kind":"identity"}}`,
		`{"format":"seqcast-scaler/1","window":4,"input":{"kind":"minmax","feature_range":[0,1],"clip":true,"data_min":[1],"data_max":[5]},"output":{"kind":"minmax","scale":[0.25],"min":[-0.25]}}`,
		`{"format":"seqcast-scaler/1","window":4,"input":{"kind":"standard","mean":null,"scale":[2]},"output":{"kind":"robust","center":[1],"scale":null}}`,
		`{"format":"seqcast-scaler/1","window":4,"input":{"kind":"window_zscore","epsilon":1e-8,"features":[0]},"output":{"kind":"window_zscore","target_feature":0}}`,
		`{"format":"seqcast-scaler/1","window":4,"input":{"kind":"standard","mean":[1,2],"scale":[1,0],"features":[1,0]},"output":null}`,
		`{"format":"seqcast-scaler/1","window":4,"input":{"kind":"window_zscore","features":[1023]},"output":{"kind":"window_zscore","target_feature":99999}}`,
		`{"format":"seqcast-scaler/1","window":4,"input":{"kind":"minmax","scale":[1e308],"min":[0]},"output":{"kind":"minmax","data_min":[0],"data_max":[1e-320]}}`,
		`{"format":"seqcast-scaler/1","window":-1}`,
		`{"format":"seqcast-scaler/1","window":1e99}`,
		`{"format":"seqcast-scaler/1","window":4,"input":{"kind":"minmax","feature_range":[1]}}`,
		`{"format":"seqcast-scaler/1","window":4,"input":{"kind":"standard","features":[-1],"mean":[0]}}`,
		`{"format":"seqcast-scaler/1","window":4,"input":{"kind":"robust","center":[1,2],"scale":[1]}}`,
		`{"format":"seqcast-scaler/1","window":4,"input":{"kind":"window_zscore","epsilon":-0}}`,
		`{"format":"seqcast-scaler/1","window":4,"input":{"kind":"nope"},"extra":1}`,
		`{"format":"seqcast-scaler/1","window":4,"input":[],"output":"identity"}`,
		`{"format":"seqcast-scaler/1","window":4,"input":{"kind":"identity","kind":"minmax"}}`,
		``, `null`, `{`, `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), uint8(1), uint8(1))
		f.Add([]byte(s), uint8(2), uint8(3))
	}
	// The golden files' scaler objects at their own shapes, and the gold model's.
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		var g struct {
			Scaler json.RawMessage `json:"scaler"`
			F      int             `json:"F"`
		}
		data, err := os.ReadFile(name)
		if err != nil || json.Unmarshal(data, &g) != nil || g.Scaler == nil {
			continue
		}
		f.Add([]byte(g.Scaler), uint8(max(g.F, 1)), uint8(1))
	}
	if data, err := os.ReadFile("../models/gold/scaler.json"); err == nil {
		f.Add(data, uint8(1), uint8(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, nf, nw uint8) {
		p, err := Parse(data)
		if err != nil {
			if p != nil {
				t.Fatalf("Parse returned a pipeline with error %v", err)
			}
			return
		}
		if p.Input == nil || p.Output == nil {
			t.Fatalf("Parse returned nil scalers: %+v", p)
		}
		T, F, W := p.Window, int(nf)%8+1, int(nw)%8+1
		if T > 512 {
			return // a legal but big window: the transforms' cost is not the point
		}
		if err := p.Check(T, F, W); err != nil {
			return
		}
		const n = 2
		raw := make([]float64, n*T*F)
		for i := range raw {
			raw[i] = math.Sin(float64(i)*1.7)*float64(i%5)*1e3 + float64(i%3)
		}
		dst := make([]float32, n*T*F)
		st, err := p.ScaleWindow(dst[:T*F], raw[:T*F], T, F)
		if err == nil {
			y := make([]float32, W)
			for i := range y {
				y[i] = dst[i%len(dst)]
			}
			out := p.InverseOutput(y, st)
			if len(out) != W {
				t.Fatalf("InverseOutput gave %d values for %d", len(out), W)
			}
		}
		if err := p.ScaleBatch(dst, raw, n, F); err == nil {
			y := make([]float32, n*W)
			inv := make([]float64, n*W)
			if err := p.InverseBatch(inv, y, raw, n, F); err != nil {
				t.Fatalf("InverseBatch after a good ScaleBatch: %v", err)
			}
		}
		// Hostile raw values must be refused, not scaled.
		raw[0] = math.NaN()
		if _, err := p.ScaleWindow(dst[:T*F], raw[:T*F], T, F); err == nil {
			t.Fatal("ScaleWindow accepted a NaN")
		}
	})
}
