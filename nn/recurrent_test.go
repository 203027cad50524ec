package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// ---- independent float64 reference (straightforward loops, Keras layout) ----

func refAct(name string) func(float64) float64 {
	switch name {
	case "tanh":
		return math.Tanh
	case "sigmoid":
		return func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	case "relu":
		return func(v float64) float64 { return math.Max(v, 0) }
	case "hard_sigmoid": // Keras 2: clip(0.2x + 0.5, 0, 1)
		return func(v float64) float64 { return math.Min(1, math.Max(0, 0.2*v+0.5)) }
	case "linear":
		return func(v float64) float64 { return v }
	}
	panic("refAct: " + name)
}

// refCell configures one reference LSTM/GRU run.
type refCell struct {
	gru, resetAfter bool
	units           int
	kernel, rec     []float32 // Keras layouts (F, G*u), (u, G*u)
	bias            []float32 // nil, (G*u) or GRU reset_after (2, 3u)
	act, ra         string
	seq, back       bool
}

// run computes one sample x (T, F) and returns (T, u) rows or one row.
func (c refCell) run(x [][]float64) [][]float64 {
	T, F, u := len(x), len(x[0]), c.units
	gates := 4
	if c.gru {
		gates = 3
	}
	G := gates * u
	act, ra := refAct(c.act), refAct(c.ra)
	kern := func(i, j int) float64 { return float64(c.kernel[i*G+j]) }
	rec := func(i, j int) float64 { return float64(c.rec[i*G+j]) }
	bin := make([]float64, G)
	brec := make([]float64, G)
	if c.bias != nil {
		for j := 0; j < G; j++ {
			bin[j] = float64(c.bias[j])
			if c.gru && c.resetAfter {
				brec[j] = float64(c.bias[G+j])
			}
		}
	}
	h := make([]float64, u)
	cs := make([]float64, u)
	var outs [][]float64
	for s := 0; s < T; s++ {
		t := s
		if c.back {
			t = T - 1 - s
		}
		xz := make([]float64, G) // x·W + b_in
		for j := 0; j < G; j++ {
			xz[j] = bin[j]
			for i := 0; i < F; i++ {
				xz[j] += x[t][i] * kern(i, j)
			}
		}
		hU := func(v []float64, j int) float64 {
			sum := 0.0
			for i := 0; i < u; i++ {
				sum += v[i] * rec(i, j)
			}
			return sum
		}
		nh := make([]float64, u)
		for j := 0; j < u; j++ {
			if !c.gru {
				ig := ra(xz[j] + hU(h, j))
				fg := ra(xz[u+j] + hU(h, u+j))
				cg := act(xz[2*u+j] + hU(h, 2*u+j))
				og := ra(xz[3*u+j] + hU(h, 3*u+j))
				cs[j] = fg*cs[j] + ig*cg
				nh[j] = og * act(cs[j])
			}
		}
		if c.gru {
			z := make([]float64, u)
			r := make([]float64, u)
			for j := 0; j < u; j++ {
				z[j] = ra(xz[j] + hU(h, j) + brec[j])
				r[j] = ra(xz[u+j] + hU(h, u+j) + brec[u+j])
			}
			rh := make([]float64, u)
			for j := 0; j < u; j++ {
				rh[j] = r[j] * h[j]
			}
			for j := 0; j < u; j++ {
				var hh float64
				if c.resetAfter {
					hh = act(xz[2*u+j] + r[j]*(hU(h, 2*u+j)+brec[2*u+j]))
				} else {
					hh = act(xz[2*u+j] + hU(rh, 2*u+j))
				}
				nh[j] = z[j]*h[j] + (1-z[j])*hh
			}
		}
		h = nh
		if c.seq {
			outs = append(outs, append([]float64(nil), h...))
		}
	}
	if !c.seq {
		outs = [][]float64{h}
	}
	return outs
}

// refBidir merges a forward and a backward reference run as Keras does.
func refBidir(f, b refCell, mode string, x [][]float64) [][]float64 {
	yf, yb := f.run(x), b.run(x)
	if f.seq { // backward outputs back into time order
		for i, j := 0, len(yb)-1; i < j; i, j = i+1, j-1 {
			yb[i], yb[j] = yb[j], yb[i]
		}
	}
	out := make([][]float64, len(yf))
	for t := range yf {
		switch mode {
		case "concat":
			out[t] = append(append([]float64(nil), yf[t]...), yb[t]...)
		default:
			out[t] = make([]float64, len(yf[t]))
			for j := range yf[t] {
				a, c := yf[t][j], yb[t][j]
				switch mode {
				case "sum":
					out[t][j] = a + c
				case "ave":
					out[t][j] = (a + c) / 2
				case "mul":
					out[t][j] = a * c
				}
			}
		}
	}
	return out
}

// ---- helpers ----

func randSlice(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32((rng.Float64()*2 - 1) * scale)
	}
	return v
}

// sampleRows views sample b of x (n, T, F) as float64 rows.
func sampleRows(x []float32, b, T, F int) [][]float64 {
	rows := make([][]float64, T)
	for t := range rows {
		rows[t] = make([]float64, F)
		for i := range rows[t] {
			rows[t][i] = float64(x[(b*T+t)*F+i])
		}
	}
	return rows
}

// runLayer builds, fills and runs a layer through a one-layer model and the
// layer's own Forward, checking both agree exactly.
func runLayer(t *testing.T, l Layer, in Shape, weights [][]float32, x []float32, n int) []float32 {
	t.Helper()
	out, err := l.Build([]Shape{in})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	ws := l.Weights()
	if len(ws) != len(weights) {
		t.Fatalf("Weights: got %d arrays, want %d", len(ws), len(weights))
	}
	for i, p := range ws {
		if p.Shape.Size() != len(weights[i]) {
			t.Fatalf("weight %d (%s): shape %v, have %d values", i, p.Name, p.Shape, len(weights[i]))
		}
		p.Value = weights[i]
	}
	if err := l.Prepare(); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	dst := make([]float32, n*out.Size())
	scratch := make([]float32, l.ScratchSize(n))
	for i := range scratch {
		scratch[i] = float32(math.NaN()) // Forward must not depend on scratch contents
	}
	l.Forward(dst, [][]float32{x}, n, scratch)
	return dst
}

func checkClose(t *testing.T, got []float32, want [][][]float64) {
	t.Helper()
	k := 0
	worst := 0.0
	for b := range want {
		for p := range want[b] {
			for j, w := range want[b][p] {
				g := float64(got[k])
				if d := math.Abs(g - w); !(d <= 1e-5+1e-5*math.Abs(w)) {
					t.Fatalf("sample %d pos %d unit %d: got %.8g, want %.8g (|err| %.3g)", b, p, j, g, w, d)
				} else {
					worst = max(worst, d)
				}
				k++
			}
		}
	}
	if k != len(got) {
		t.Fatalf("output has %d values, reference %d", len(got), k)
	}
}

func (c refCell) weights(rng *rand.Rand, F int) [][]float32 {
	gates := 4
	if c.gru {
		gates = 3
	}
	return [][]float32{
		randSlice(rng, F*gates*c.units, 0.8),
		randSlice(rng, c.units*gates*c.units, 0.8),
	}
}

type rnnCase struct {
	name       string
	gru        bool
	resetAfter bool
	units      int
	T, F, n    int
	seq, back  bool
	noBias     bool
	act, ra    string
}

var rnnCases = []rnnCase{
	{name: "u1_T2", units: 1, T: 2, F: 1, n: 1},
	{name: "u2_T3_seq", units: 2, T: 3, F: 2, n: 2, seq: true},
	{name: "u2_T3_back", units: 2, T: 3, F: 2, n: 2, back: true},
	{name: "u2_T3_back_seq", units: 2, T: 3, F: 1, n: 3, seq: true, back: true},
	{name: "u2_nobias", units: 2, T: 3, F: 2, n: 1, noBias: true, seq: true},
	{name: "u2_relu_hardsig", units: 2, T: 3, F: 2, n: 2, seq: true, act: "relu", ra: "hard_sigmoid"},
	{name: "u3_linear", units: 3, T: 2, F: 3, n: 2, act: "linear", ra: "sigmoid"},
	{name: "u9_padded_batch", units: 9, T: 4, F: 5, n: 7, seq: true},
	{name: "u16_chunked", units: 16, T: 5, F: 3, n: rnnChunk + 5, back: true},
	{name: "u24_relu_chunked", units: 24, T: 3, F: 4, n: rnnChunk + 3, seq: true, act: "relu", ra: "hard_sigmoid"},
}

func (tc rnnCase) cell(rng *rand.Rand) (refCell, [][]float32) {
	c := refCell{gru: tc.gru, resetAfter: tc.resetAfter, units: tc.units, act: tc.act, ra: tc.ra, seq: tc.seq, back: tc.back}
	if c.act == "" {
		c.act = "tanh"
	}
	if c.ra == "" {
		c.ra = "sigmoid"
	}
	w := c.weights(rng, tc.F)
	c.kernel, c.rec = w[0], w[1]
	if !tc.noBias {
		gates := 4
		if tc.gru {
			gates = 3
		}
		nb := gates * tc.units
		if tc.gru && tc.resetAfter {
			nb *= 2
		}
		c.bias = randSlice(rng, nb, 0.5)
		w = append(w, c.bias)
	}
	return c, w
}

func (tc rnnCase) layer(c refCell) Layer {
	act, ra := MustActivation(c.act, false), MustActivation(c.ra, false)
	if tc.gru {
		return &GRU{LayerName: "gru_" + tc.name, Units: tc.units, ReturnSequences: tc.seq, GoBackwards: tc.back,
			UseBias: !tc.noBias, ResetAfter: tc.resetAfter, Activation: act, RecurrentActivation: ra}
	}
	return &LSTM{LayerName: "lstm_" + tc.name, Units: tc.units, ReturnSequences: tc.seq, GoBackwards: tc.back,
		UseBias: !tc.noBias, Activation: act, RecurrentActivation: ra}
}

func testRNN(t *testing.T, tc rnnCase) {
	rng := rand.New(rand.NewPCG(1, uint64(len(tc.name))))
	c, w := tc.cell(rng)
	x := randSlice(rng, tc.n*tc.T*tc.F, 1.5)
	got := runLayer(t, tc.layer(c), Shape{tc.T, tc.F}, w, x, tc.n)
	want := make([][][]float64, tc.n)
	for b := range want {
		want[b] = c.run(sampleRows(x, b, tc.T, tc.F))
	}
	checkClose(t, got, want)
}

func TestLSTM(t *testing.T) {
	for _, tc := range rnnCases {
		t.Run(tc.name, func(t *testing.T) { testRNN(t, tc) })
	}
}

func TestGRU(t *testing.T) {
	for _, ra := range []bool{true, false} {
		for _, tc := range rnnCases {
			tc.gru, tc.resetAfter = true, ra
			t.Run(fmt.Sprintf("reset_after=%v/%s", ra, tc.name), func(t *testing.T) { testRNN(t, tc) })
		}
	}
}

// TestLSTMGateOrder checks the i, f, c, o column order against a closed
// form: one step, no recurrence, so c = sig(wi)*tanh(wc), h = sig(wo)*tanh(c)
// and the forget gate (wf) must not matter.
func TestLSTMGateOrder(t *testing.T) {
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	wi, wf, wc, wo := 0.3, -5.0, 0.9, -0.4
	l := &LSTM{LayerName: "lstm", Units: 1, UseBias: true,
		Activation: MustActivation("tanh", false), RecurrentActivation: MustActivation("sigmoid", false)}
	got := runLayer(t, l, Shape{1, 1},
		[][]float32{{float32(wi), float32(wf), float32(wc), float32(wo)}, {7, 7, 7, 7}, {0, 0, 0, 0}},
		[]float32{1}, 1)
	c := sig(wi) * math.Tanh(wc)
	want := sig(wo) * math.Tanh(c)
	if math.Abs(float64(got[0])-want) > 1e-6 {
		t.Fatalf("h = %v, want %v", got[0], want)
	}
}

// TestGRUGateOrder: one step from h = 0 gives h = (1-sig(wz))*tanh(wh); r
// only multiplies the (zero) recurrent part.
func TestGRUGateOrder(t *testing.T) {
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	wz, wr, wh := 0.7, 3.0, -0.6
	for _, resetAfter := range []bool{true, false} {
		bias := []float32{0, 0, 0}
		if resetAfter {
			bias = []float32{0, 0, 0, 0, 0, 0}
		}
		l := &GRU{LayerName: "gru", Units: 1, UseBias: true, ResetAfter: resetAfter,
			Activation: MustActivation("tanh", false), RecurrentActivation: MustActivation("sigmoid", false)}
		got := runLayer(t, l, Shape{1, 1},
			[][]float32{{float32(wz), float32(wr), float32(wh)}, {5, 5, 5}, bias}, []float32{1}, 1)
		want := (1 - sig(wz)) * math.Tanh(wh)
		if math.Abs(float64(got[0])-want) > 1e-6 {
			t.Fatalf("reset_after=%v: h = %v, want %v", resetAfter, got[0], want)
		}
	}
}

func TestBidirectional(t *testing.T) {
	for _, class := range []string{"LSTM", "GRU"} {
		for _, seq := range []bool{false, true} {
			for _, mode := range []string{"concat", "sum", "ave", "mul"} {
				name := fmt.Sprintf("%s/seq=%v/%s", class, seq, mode)
				t.Run(name, func(t *testing.T) {
					rng := rand.New(rand.NewPCG(7, uint64(len(name))))
					const T, F, n, u = 3, 2, rnnChunk + 3, 2 // two chunks
					base := rnnCase{name: "x", gru: class == "GRU", resetAfter: true, units: u, T: T, F: F, seq: seq}
					fc, fw := base.cell(rng)
					bcase := base
					bcase.back = true
					bc, bw := bcase.cell(rng)
					bi := &Bidirectional{LayerName: "bidirectional", ForwardLayer: base.layer(fc), BackwardLayer: bcase.layer(bc), MergeMode: mode}
					x := randSlice(rng, n*T*F, 1.5)
					got := runLayer(t, bi, Shape{T, F}, append(fw, bw...), x, n)
					want := make([][][]float64, n)
					for b := range want {
						want[b] = refBidir(fc, bc, mode, sampleRows(x, b, T, F))
					}
					checkClose(t, got, want)
				})
			}
		}
	}
}

func TestBidirectionalBuildErrors(t *testing.T) {
	tanh, sig := MustActivation("tanh", false), MustActivation("sigmoid", false)
	lstm := func(name string, seq, back bool) *LSTM {
		return &LSTM{LayerName: name, Units: 2, ReturnSequences: seq, GoBackwards: back, UseBias: true, Activation: tanh, RecurrentActivation: sig}
	}
	gru := &GRU{LayerName: "backward_gru", Units: 2, GoBackwards: true, UseBias: true, ResetAfter: true, Activation: tanh, RecurrentActivation: sig}
	for _, tc := range []struct {
		name string
		l    *Bidirectional
		want string
	}{
		{"class", &Bidirectional{LayerName: "bidi", ForwardLayer: lstm("f", false, false), BackwardLayer: gru, MergeMode: "concat"}, "same class"},
		{"seq", &Bidirectional{LayerName: "bidi", ForwardLayer: lstm("f", true, false), BackwardLayer: lstm("b", false, true), MergeMode: "concat"}, "return_sequences"},
		{"backwards", &Bidirectional{LayerName: "bidi", ForwardLayer: lstm("f", false, false), BackwardLayer: lstm("b", false, false), MergeMode: "concat"}, "go_backwards"},
		{"none", &Bidirectional{LayerName: "bidi", ForwardLayer: lstm("f", false, false), BackwardLayer: lstm("b", false, true), MergeMode: ""}, "merge_mode"},
		{"other", &Bidirectional{LayerName: "bidi", ForwardLayer: lstm("f", false, false), BackwardLayer: &Dense{LayerName: "d", Units: 2}, MergeMode: "concat"}, "not LSTM, GRU or SimpleRNN"},
		{"rank", &Bidirectional{LayerName: "bidi", ForwardLayer: lstm("f", false, false), BackwardLayer: lstm("b", false, true), MergeMode: "sum"}, "3-D"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := Shape{3, 2}
			if tc.name == "rank" {
				in = Shape{6}
			}
			_, err := tc.l.Build([]Shape{in})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"bidi"`) && tc.name != "rank" {
				t.Fatalf("err = %v, want mention of %q and the layer", err, tc.want)
			}
		})
	}
}

func TestRecurrentShapesAndWeights(t *testing.T) {
	l := &GRU{LayerName: "gru", Units: 5, UseBias: true, ResetAfter: true}
	out, err := l.Build([]Shape{{7, 3}})
	if err != nil || !out.Equal(Shape{5}) {
		t.Fatalf("Build = %v, %v", out, err)
	}
	var shapes []string
	for _, p := range l.Weights() {
		shapes = append(shapes, fmt.Sprintf("%s%v", p.Name, []int(p.Shape)))
	}
	if got, want := strings.Join(shapes, " "), "kernel[3 15] recurrent_kernel[5 15] bias[2 15]"; got != want {
		t.Fatalf("weights %s, want %s", got, want)
	}
	if err := l.Prepare(); err == nil || !strings.Contains(err.Error(), "kernel") {
		t.Fatalf("Prepare without values: err = %v", err)
	}
	if _, err := (&LSTM{LayerName: "l", Units: 0}).Build([]Shape{{2, 2}}); err == nil || !strings.Contains(err.Error(), "units") {
		t.Fatalf("units=0: err = %v", err)
	}
}

// TestRecurrentNoAllocs: Forward of every recurrent layer allocates nothing.
func TestRecurrentNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []rnnCase{
		{name: "lstm", units: 16, T: 6, F: 4, n: 3, seq: true},
		{name: "gru_after", gru: true, resetAfter: true, units: 16, T: 6, F: 4, n: 3},
		{name: "gru_before", gru: true, units: 16, T: 6, F: 4, n: 3, seq: true},
	} {
		c, w := tc.cell(rng)
		bcase := tc
		bcase.back = true
		bc, bw := bcase.cell(rng)
		for _, l := range []Layer{
			tc.layer(c),
			&Bidirectional{LayerName: "bi", ForwardLayer: tc.layer(c), BackwardLayer: bcase.layer(bc), MergeMode: "ave"},
		} {
			weights := w
			if _, ok := l.(*Bidirectional); ok {
				weights = append(append([][]float32(nil), w...), bw...)
			}
			x := randSlice(rng, tc.n*tc.T*tc.F, 1)
			dst := runLayer(t, l, Shape{tc.T, tc.F}, weights, x, tc.n)
			scratch := make([]float32, l.ScratchSize(tc.n))
			ins := [][]float32{x}
			if a := testing.AllocsPerRun(20, func() { l.Forward(dst, ins, tc.n, scratch) }); a != 0 {
				t.Errorf("%s %s: %v allocs per Forward", tc.name, l.Class(), a)
			}
		}
	}
}

// TestGemmAcc checks the matrix kernels (assembly where available) against
// a plain triple loop on shapes that exercise every tail.
func TestGemmAcc(t *testing.T) {
	impls := []string{"go"}
	if haveAVX2FMA {
		impls = append(impls, "avx2")
	}
	if haveAVX512 {
		impls = append(impls, "avx512")
	}
	for _, impl := range impls {
		t.Run(impl, func(t *testing.T) { testGemm(t, impl) })
	}
}

func testGemm(t *testing.T, impl string) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, m := range []int{1, 2, 3, 4, 5, 8, 9, 13, 300} {
		for _, n := range []int{16, 32, 48, 64, 80, 144} {
			for _, k := range []int{0, 1, 3, 17} {
				lda, ldb, ldc := k+2, n+8, n+16
				a := randSlice(rng, m*lda, 1)
				b := randSlice(rng, k*ldb, 1)
				bp := make([]float32, k*n)
				packPanels(bp, b, k, n, ldb)
				c := randSlice(rng, m*ldc, 1)
				want := append([]float32(nil), c...)
				switch {
				case k == 0:
					gemmAcc(m, n, k, a, lda, bp, c, ldc) // the kernels assume k > 0
				case impl == "go":
					gemmAccGo(m, n, k, a, lda, bp, c, ldc)
				case impl == "avx2":
					gemmAccAsm(m, n, k, a, lda, bp, c, ldc, false)
				case impl == "avx512":
					gemmAccAsm(m, n, k, a, lda, bp, c, ldc, true)
				}
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						for kk := 0; kk < k; kk++ {
							want[i*ldc+j] += a[i*lda+kk] * b[kk*ldb+j]
						}
					}
				}
				for i := range c {
					if d := math.Abs(float64(c[i] - want[i])); d > 1e-5 {
						t.Fatalf("%s m=%d n=%d k=%d: c[%d] = %v, want %v", impl, m, n, k, i, c[i], want[i])
					}
				}
			}
		}
	}
}

// TestLSTMGatesKernels checks every implementation of the fused LSTM cell
// update available on this CPU against float64.
func TestLSTMGatesKernels(t *testing.T) {
	const up = 48
	rng := rand.New(rand.NewPCG(8, 9))
	z0 := randSlice(rng, 4*up, 6)
	c0 := randSlice(rng, up, 3)
	impls := map[string]func(z, c, h []float32){
		"go": func(z, c, h []float32) { lstmGatesGo(z, c, h, up) },
	}
	if haveAVX2FMA {
		impls["avx2"] = func(z, c, h []float32) { lstmGates(&z[0], &c[0], &h[0], up) }
	}
	if haveAVX512 {
		impls["avx512"] = func(z, c, h []float32) { lstmGatesZ(&z[0], &c[0], &h[0], up) }
	}
	sig := func(v float32) float64 { return 1 / (1 + math.Exp(-float64(v))) }
	for name, f := range impls {
		z := append([]float32(nil), z0...)
		c := append([]float32(nil), c0...)
		h := make([]float32, up)
		f(z, c, h)
		for j := 0; j < up; j++ {
			wc := sig(z0[up+j])*float64(c0[j]) + sig(z0[j])*math.Tanh(float64(z0[2*up+j]))
			wh := sig(z0[3*up+j]) * math.Tanh(wc)
			if math.Abs(float64(c[j])-wc) > 2e-6 || math.Abs(float64(h[j])-wh) > 2e-6 {
				t.Fatalf("%s unit %d: c, h = %v, %v; want %v, %v", name, j, c[j], h[j], wc, wh)
			}
		}
	}
}

// TestBidirectionalOddConfigs: directions with different units (concat),
// GRU with reset_after=False, and a pair whose "forward" layer is the one
// going backwards (Keras still reverses only the backward layer's outputs).
func TestBidirectionalOddConfigs(t *testing.T) {
	const T, F, n = 4, 3, 5
	for _, tc := range []struct {
		name     string
		fwd, bwd rnnCase
		mode     string
	}{
		{"units_2_3", rnnCase{name: "f", units: 2, T: T, F: F, seq: true}, rnnCase{name: "b", units: 3, T: T, F: F, seq: true, back: true}, "concat"},
		{"gru_reset_before", rnnCase{name: "f", gru: true, units: 3, T: T, F: F, seq: true}, rnnCase{name: "b", gru: true, units: 3, T: T, F: F, seq: true, back: true}, "mul"},
		{"swapped_seq", rnnCase{name: "f", units: 2, T: T, F: F, seq: true, back: true}, rnnCase{name: "b", units: 2, T: T, F: F, seq: true}, "concat"},
		{"swapped_last", rnnCase{name: "f", units: 2, T: T, F: F, back: true}, rnnCase{name: "b", units: 2, T: T, F: F}, "sum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, uint64(len(tc.name))))
			fc, fw := tc.fwd.cell(rng)
			bc, bw := tc.bwd.cell(rng)
			bi := &Bidirectional{LayerName: "bidirectional", ForwardLayer: tc.fwd.layer(fc), BackwardLayer: tc.bwd.layer(bc), MergeMode: tc.mode}
			x := randSlice(rng, n*T*F, 1.5)
			got := runLayer(t, bi, Shape{T, F}, append(fw, bw...), x, n)
			want := make([][][]float64, n)
			for b := range want {
				want[b] = refBidir(fc, bc, tc.mode, sampleRows(x, b, T, F))
			}
			checkClose(t, got, want)
		})
	}
}

// TestGemmBias checks C = bias + A·B (whatever C held before) on shapes
// that take the AVX-512 8-row tiles, every tail tile, and the fallback.
func TestGemmBias(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	for _, m := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 29, 300} {
		for _, n := range []int{16, 32, 64, 96} {
			for _, k := range []int{0, 1, 5, 64} {
				lda, ldc := k+3, n+16
				a := randSlice(rng, m*lda, 1)
				b := randSlice(rng, k*n, 1)
				bp := make([]float32, k*n)
				packPanels(bp, b, k, n, n)
				bias := randSlice(rng, n, 1)
				c := randSlice(rng, m*ldc, 1)
				pad := append([]float32(nil), c...)
				gemmBias(m, k, a, lda, bp, c, ldc, bias)
				for i := 0; i < m; i++ {
					for j := 0; j < ldc; j++ {
						want := pad[i*ldc+j] // the gap between rows is untouched
						if j < n {
							want = bias[j]
							for kk := 0; kk < k; kk++ {
								want += a[i*lda+kk] * b[kk*n+j]
							}
						}
						if d := math.Abs(float64(c[i*ldc+j] - want)); d > 1e-4 {
							t.Fatalf("m=%d n=%d k=%d: c[%d,%d] = %v, want %v", m, n, k, i, j, c[i*ldc+j], want)
						}
					}
				}
			}
		}
	}
}
