package scaler

import (
	"math"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"format", `{"format":"x","window":3,"input":{"kind":"identity"},"output":{"kind":"identity"}}`, `format "x"`},
		{"window", `{"format":"seqcast-scaler/1","window":0,"input":{"kind":"identity"}}`, "window 0"},
		{"unknown top key", `{"format":"seqcast-scaler/1","window":3,"inputs":{}}`, `unknown field "inputs"`},
		{"kind", `{"format":"seqcast-scaler/1","window":3,"input":{"kind":"quantile"}}`, `input: unknown kind "quantile"`},
		{"no kind", `{"format":"seqcast-scaler/1","window":3,"input":{}}`, `missing or invalid "kind"`},
		{"typo", `{"format":"seqcast-scaler/1","window":3,"input":{"kind":"standard","mean":[1],"sacle":[1]}}`, `standard: unknown field "sacle"`},
		{"len", `{"format":"seqcast-scaler/1","window":3,"input":{"kind":"standard","mean":[1,2],"scale":[1]}}`, "mean has 2 values, scale has 1"},
		{"nan", `{"format":"seqcast-scaler/1","window":3,"output":{"kind":"robust","center":[1e999],"scale":[1]}}`, "output: robust: center"},
		{"minmax params", `{"format":"seqcast-scaler/1","window":3,"input":{"kind":"minmax","scale":[1]}}`, "needs scale and min"},
		{"minmax zero", `{"format":"seqcast-scaler/1","window":3,"input":{"kind":"minmax","scale":[0],"min":[0]}}`, "scale[0] is 0"},
		{"minmax range", `{"format":"seqcast-scaler/1","window":3,"input":{"kind":"minmax","feature_range":[1,0],"scale":[1],"min":[0]}}`, "feature_range [1, 0]"},
		{"features dup", `{"format":"seqcast-scaler/1","window":3,"input":{"kind":"standard","mean":[1,2],"scale":[1,1],"features":[1,1]}}`, "distinct"},
		{"features len", `{"format":"seqcast-scaler/1","window":3,"input":{"kind":"standard","mean":[1,2],"features":[1]}}`, "features lists 1"},
		{"eps", `{"format":"seqcast-scaler/1","window":3,"input":{"kind":"window_zscore","epsilon":-1}}`, "epsilon -1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse: %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	const mm1 = `{"kind":"minmax","scale":[0.5],"min":[-1]}`
	tests := []struct {
		name, doc string
		T, F, W   int
		want      string // "" = ok
	}{
		{"identity", `{"format":"seqcast-scaler/1","window":4}`, 4, 3, 1, ""},
		{"window", `{"format":"seqcast-scaler/1","window":4}`, 5, 3, 1, "window is 4"},
		{"input width", `{"format":"seqcast-scaler/1","window":4,"input":` + mm1 + `}`, 4, 3, 1, "input: scaler: minmax has 1 features, data has 3"},
		{"output broadcast", `{"format":"seqcast-scaler/1","window":4,"output":` + mm1 + `}`, 4, 3, 5, ""},
		{"output width", `{"format":"seqcast-scaler/1","window":4,"output":{"kind":"standard","mean":[1,2]}}`, 4, 3, 5, "has 2 features, data has 5"},
		{"features range", `{"format":"seqcast-scaler/1","window":4,"input":{"kind":"standard","mean":[1],"features":[3]}}`, 4, 3, 1, "index 3 out of range"},
		{"target", `{"format":"seqcast-scaler/1","window":4,"input":{"kind":"window_zscore"},"output":{"kind":"window_zscore","target_feature":3}}`, 4, 3, 1, "target_feature 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			err = p.Check(tc.T, tc.F, tc.W)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Check: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestTransforms(t *testing.T) {
	tests := []struct {
		name      string
		s         string
		width     int
		x, want   []float64
		inverseOK bool
	}{
		{"minmax clip", `{"kind":"minmax","feature_range":[0,1],"clip":true,"scale":[0.5,2],"min":[0,-1]}`, 2,
			[]float64{1, 1, 4, 0.25}, []float64{0.5, 1, 1, 0}, false},
		{"minmax from data range", `{"kind":"minmax","feature_range":[-1,1],"data_min":[0,5],"data_max":[4,5]}`, 2,
			[]float64{2, 5, 4, 6}, []float64{0, -1, 1, 1}, true},
		{"standard features", `{"kind":"standard","mean":[10],"scale":[2],"features":[1]}`, 3,
			[]float64{1, 14, 3, 4, 8, 6}, []float64{1, 2, 3, 4, -1, 6}, true},
		{"standard zero scale", `{"kind":"standard","mean":[1,1],"scale":[0,2]}`, 2,
			[]float64{3, 3}, []float64{2, 1}, true},
		{"robust no centering", `{"kind":"robust","center":null,"scale":[4]}`, 1,
			[]float64{2, -8}, []float64{0.5, -2}, true},
		{"identity", `{"kind":"identity"}`, 2, []float64{1, 2}, []float64{1, 2}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseScaler([]byte(tc.s))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Check(tc.width); err != nil {
				t.Fatal(err)
			}
			got := make([]float64, len(tc.x))
			if err := s.Transform(got, tc.x, tc.width); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if math.Abs(got[i]-tc.want[i]) > 1e-15 {
					t.Fatalf("Transform = %v, want %v", got, tc.want)
				}
			}
			if !tc.inverseOK {
				return
			}
			if err := s.InverseTransform(got, got, tc.width); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if math.Abs(got[i]-tc.x[i]) > 1e-12 {
					t.Fatalf("InverseTransform = %v, want %v", got, tc.x)
				}
			}
		})
	}
}

func TestPipelineRoundTrip(t *testing.T) {
	doc := `{"format":"seqcast-scaler/1","window":3,
	 "input":{"kind":"minmax","scale":[0.5,0.25],"min":[0,1]},
	 "output":{"kind":"minmax","scale":[0.5],"min":[1]}}`
	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Check(3, 2, 2); err != nil {
		t.Fatal(err)
	}
	raw := []float64{2, 4, 4, 8, 6, 12, 0, 0, 2, 4, 4, 8}
	x := make([]float32, len(raw))
	if err := p.ScaleBatch(x, raw, 2, 2); err != nil {
		t.Fatal(err)
	}
	if x[0] != 1 || x[1] != 2 || x[5] != 4 {
		t.Fatalf("ScaleBatch = %v", x)
	}
	y := []float32{2, 3, 1, 1.5}
	dst := make([]float64, 4)
	if err := p.InverseBatch(dst, y, raw, 2, 2); err != nil {
		t.Fatal(err)
	}
	want := []float64{2, 4, 0, 1} // (y-1)/0.5 on every output column
	for i := range want {
		if dst[i] != want[i] {
			t.Fatalf("InverseBatch = %v, want %v", dst, want)
		}
	}
	if got := p.InverseOutput(y[:2], State{}); got[0] != 2 || got[1] != 4 {
		t.Fatalf("InverseOutput = %v", got)
	}
	raw[3] = math.NaN()
	if err := p.ScaleBatch(x, raw, 2, 2); err == nil || !strings.Contains(err.Error(), "window 0: scaler: value at step 1, feature 1 is not finite") {
		t.Fatalf("NaN: %v", err)
	}
	raw[3] = 1e300
	if err := p.ScaleBatch(x, raw, 2, 2); err == nil || !strings.Contains(err.Error(), "not finite in float32") {
		t.Fatalf("overflow: %v", err)
	}
}

func TestWindowZScoreSales(t *testing.T) {
	// The sales-bilstm notebook: univariate windows of 8, eps 1e-8.
	p, err := Parse([]byte(`{"format":"seqcast-scaler/1","window":8,"input":{"kind":"window_zscore","epsilon":1e-8},
	 "output":{"kind":"window_zscore","epsilon":1e-8,"target_feature":0}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Check(8, 1, 1); err != nil {
		t.Fatal(err)
	}
	raw := []float64{1, 2, 3, 4, 5, 6, 7, 8}
	x := make([]float32, 8)
	st, err := p.ScaleWindow(x, raw, 8, 1)
	if err != nil {
		t.Fatal(err)
	}
	sd := math.Sqrt(5.25) + 1e-8
	if st.Mu != 4.5 || math.Abs(st.Sigma-sd) > 1e-15 || x[0] != float32((1-4.5)/sd) {
		t.Fatalf("state %+v, x %v", st, x)
	}
	got := p.InverseOutput([]float32{1}, st)
	if math.Abs(got[0]-(sd+4.5)) > 1e-12 {
		t.Fatalf("inverse %v", got)
	}
	// a column the scaler leaves alone must still fit in float32
	p2, err := Parse([]byte(`{"format":"seqcast-scaler/1","window":2,"input":{"kind":"window_zscore","features":[0]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p2.ScaleWindow(make([]float32, 4), []float64{1, 2, 3, 1e300}, 2, 2); err == nil || !strings.Contains(err.Error(), "step 1, feature 1 is not finite in float32") {
		t.Fatalf("pass-through overflow: %v", err)
	}
	x2 := make([]float32, 4)
	if _, err := p2.ScaleWindow(x2, []float64{1e100, 2, -1e100, 3}, 2, 2); err != nil || x2[0] != 1 || x2[1] != 2 || x2[2] != -1 || x2[3] != 3 {
		t.Fatalf("features [0]: %v %v", x2, err)
	}
	var ws WindowZScore
	if err := ws.InverseTransform(nil, nil, 1); err != ErrNeedsWindow {
		t.Fatalf("InverseTransform: %v", err)
	}
}

func TestNoAllocs(t *testing.T) {
	for _, doc := range []string{
		`{"format":"seqcast-scaler/1","window":24,"input":{"kind":"standard","mean":[1,2,3,4,5,6,7],"scale":[1,2,3,4,5,6,7]},"output":{"kind":"minmax","scale":[0.5],"min":[1]}}`,
		`{"format":"seqcast-scaler/1","window":24,"input":{"kind":"window_zscore"},"output":{"kind":"window_zscore","target_feature":3}}`,
	} {
		p, err := Parse([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		const n = 4
		raw := make([]float64, n*24*7)
		for i := range raw {
			raw[i] = float64(i%13) + 0.5
		}
		x := make([]float32, len(raw))
		y := make([]float32, n)
		dst := make([]float64, n)
		allocs := testing.AllocsPerRun(20, func() {
			if err := p.ScaleBatch(x, raw, n, 7); err != nil {
				t.Fatal(err)
			}
			if err := p.InverseBatch(dst, y, raw, n, 7); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per scale+inverse, want 0", p.Input.Kind(), allocs)
		}
	}
}

func BenchmarkScaleBatch(b *testing.B) {
	p, err := Parse([]byte(`{"format":"seqcast-scaler/1","window":24,"input":{"kind":"minmax","scale":[1,2,3,4,5,6,7],"min":[1,2,3,4,5,6,7]},"output":{"kind":"minmax","scale":[0.5],"min":[1]}}`))
	if err != nil {
		b.Fatal(err)
	}
	const n = 32
	raw := make([]float64, n*24*7)
	x := make([]float32, len(raw))
	b.ReportAllocs()
	for b.Loop() {
		if err := p.ScaleBatch(x, raw, n, 7); err != nil {
			b.Fatal(err)
		}
	}
}
