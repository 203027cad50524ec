package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/seqcast/seqcast/internal/ref64"
)

// rand32 fills a float32 slice and its float64 twin with values in [-a, a].
func rand32(r *rand.Rand, a float64, shape ...int) ([]float32, ref64.Tensor) {
	t := ref64.New(shape...)
	x := make([]float32, len(t.Data))
	for i := range x {
		x[i] = float32((r.Float64()*2 - 1) * a)
		t.Data[i] = float64(x[i])
	}
	return x, t
}

// runAttention builds l on per-sample shapes, sets its weights, and runs a
// batch of n through a one-node-per-input model (Identity feeds).
func runAttention(t *testing.T, l Layer, n int, shapes []Shape, ins [][]float32, weights [][]float32) []float32 {
	t.Helper()
	out, err := l.Build(shapes)
	if err != nil {
		t.Fatal(err)
	}
	ps := l.Weights()
	if len(ps) != len(weights) {
		t.Fatalf("%d weights, want %d", len(weights), len(ps))
	}
	for i, p := range ps {
		if len(weights[i]) != p.Shape.Size() {
			t.Fatalf("weight %s: %d values for %v", p.Name, len(weights[i]), p.Shape)
		}
		p.Value = weights[i]
	}
	if err := l.Prepare(); err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, n*out.Size())
	scratch := make([]float32, l.ScratchSize(n))
	l.Forward(dst, ins, n, scratch)
	return dst
}

func within(t *testing.T, got []float32, want ref64.Tensor) {
	t.Helper()
	if len(got) != len(want.Data) {
		t.Fatalf("%d outputs, want %d", len(got), len(want.Data))
	}
	worst := 0.0
	for i, w := range want.Data {
		r := math.Abs(float64(got[i])-w) / (1e-5 + 1e-5*math.Abs(w))
		if !(r <= worst) {
			worst = r
		}
	}
	if !(worst <= 1) {
		t.Errorf("worst err/tol %.3g", worst)
	}
}

func TestMultiHeadAttentionReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct {
		name               string
		tq, tv, fq, fv, fk int
		h, kd, vd, o       int
		bias, causal, key  bool
	}{
		{"self", 6, 6, 4, 4, 4, 2, 3, 0, 0, true, false, false},
		{"causal_self", 7, 7, 5, 5, 5, 3, 2, 0, 0, true, true, false},
		{"cross_key_nobias_outdim", 4, 9, 3, 5, 2, 2, 3, 4, 6, false, false, true},
		{"cross_causal_longer_query", 8, 5, 3, 4, 4, 1, 4, 2, 0, true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 3
			vd, o := tc.vd, tc.o
			if vd == 0 {
				vd = tc.kd
			}
			if o == 0 {
				o = tc.fq
			}
			q, qt := rand32(r, 1, n, tc.tq, tc.fq)
			v, vt := rand32(r, 1, n, tc.tv, tc.fv)
			k, kt := v, vt
			shapes := []Shape{{tc.tq, tc.fq}, {tc.tv, tc.fv}}
			ins := [][]float32{q, v}
			if tc.key {
				k, kt = rand32(r, 1, n, tc.tv, tc.fk)
				shapes = append(shapes, Shape{tc.tv, tc.fk})
				ins = append(ins, k)
			}
			_ = k
			var w ref64.MHAWeights
			var ws [][]float32
			add := func(t *ref64.Tensor, shape ...int) {
				x, xt := rand32(r, 0.8, shape...)
				*t = xt
				ws = append(ws, x)
			}
			add(&w.Wq, tc.fq, tc.h, tc.kd)
			if tc.bias {
				add(&w.Bq, tc.h, tc.kd)
			}
			add(&w.Wk, kt.Shape[2], tc.h, tc.kd)
			if tc.bias {
				add(&w.Bk, tc.h, tc.kd)
			}
			add(&w.Wv, tc.fv, tc.h, vd)
			if tc.bias {
				add(&w.Bv, tc.h, vd)
			}
			add(&w.Wo, tc.h, vd, o)
			if tc.bias {
				add(&w.Bo, o)
			}
			l := &MultiHeadAttention{LayerName: "mha", NumHeads: tc.h, KeyDim: tc.kd, ValueDim: tc.vd,
				UseBias: tc.bias, OutputDim: tc.o, Causal: tc.causal}
			got := runAttention(t, l, n, shapes, ins, ws)
			within(t, got, ref64.MHA(qt, vt, kt, w, tc.causal))
		})
	}
}

func TestAttentionReference(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	modes := map[ScoreMode]ref64.AttentionMode{ScoreDot: ref64.Dot, ScoreConcat: ref64.Concat, ScoreAdditive: ref64.Additive}
	for _, mode := range []ScoreMode{ScoreDot, ScoreConcat, ScoreAdditive} {
		for _, scale := range []bool{false, true} {
			for _, causal := range []bool{false, true} {
				for _, key := range []bool{false, true} {
					t.Run(fmt.Sprintf("mode%d_scale%v_causal%v_key%v", mode, scale, causal, key), func(t *testing.T) {
						const n, tq, tv, d = 3, 5, 7, 4
						dv := d
						if key {
							dv = 3
						}
						q, qt := rand32(r, 1, n, tq, d)
						v, vt := rand32(r, 1, n, tv, dv)
						kt := vt
						shapes := []Shape{{tq, d}, {tv, dv}}
						ins := [][]float32{q, v}
						if key {
							var k []float32
							k, kt = rand32(r, 1, n, tv, d)
							shapes = append(shapes, Shape{tv, d})
							ins = append(ins, k)
						}
						var w ref64.AttentionWeights
						var ws [][]float32
						if scale {
							sz := 1
							if mode == ScoreAdditive {
								sz = d
							}
							s, st := rand32(r, 1.5, sz)
							w.Scale, ws = st.Data, append(ws, s)
						}
						if mode == ScoreConcat {
							w.ConcatWeight = 0.8
							ws = append(ws, []float32{0.8})
						}
						l := &Attention{LayerName: "att", Additive: mode == ScoreAdditive, Score: mode, UseScale: scale, Causal: causal}
						got := runAttention(t, l, n, shapes, ins, ws)
						within(t, got, ref64.Attention(qt, vt, kt, modes[mode], w, causal))
					})
				}
			}
		}
	}
}

func TestEinsumDenseReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, tc := range []struct {
		eq, ellipsis string
		in           Shape
		outShape     []int
		kernel       []int
		bias         string
		biasShape    []int
		act          string
	}{
		{"abc,cd->abd", "", Shape{5, 4}, []int{0, 6}, []int{4, 6}, "d", []int{6}, "relu"},
		{"abc,cde->abde", "", Shape{5, 4}, []int{0, 2, 3}, []int{4, 2, 3}, "de", []int{2, 3}, ""},
		{"abcd,cde->abe", "", Shape{5, 2, 3}, []int{0, 4}, []int{2, 3, 4}, "e", []int{4}, "tanh"},
		{"abc,cd->adb", "", Shape{5, 4}, []int{3, 5}, []int{4, 3}, "d", []int{3, 1}, ""},
		{"abc,cde->abde", "", Shape{5, 4}, []int{0, 2, 3}, []int{4, 2, 3}, "d", []int{2, 1}, ""},
		{"...b,bc->...c", "xy", Shape{5, 4}, []int{3}, []int{4, 3}, "", nil, "sigmoid"},
		{"ab,bc->ac", "", Shape{4}, []int{3}, []int{4, 3}, "c", []int{3}, ""},
	} {
		t.Run(tc.eq+"_"+tc.bias, func(t *testing.T) {
			const n = 3
			x, xt := rand32(r, 1, append([]int{n}, tc.in...)...)
			k, kt := rand32(r, 0.8, tc.kernel...)
			ws := [][]float32{k}
			var bt ref64.Tensor
			if tc.bias != "" {
				var b []float32
				b, bt = rand32(r, 0.5, tc.biasShape...)
				ws = append(ws, b)
			}
			act := tc.act
			if act == "" {
				act = "linear"
			}
			l := &EinsumDense{LayerName: "ed", Equation: tc.eq, OutputShape: tc.outShape, BiasAxes: tc.bias,
				Activation: MustActivation(act, true)}
			got := runAttention(t, l, n, []Shape{tc.in}, [][]float32{x}, ws)
			for i, p := range l.Weights() {
				if want := []int(map[int]Shape{0: Shape(tc.kernel), 1: Shape(tc.biasShape)}[i]); !p.Shape.Equal(want) {
					t.Fatalf("%s shape %v, Keras has %v", p.Name, p.Shape, want)
				}
			}
			within(t, got, ref64.EinsumDense(tc.eq, tc.ellipsis, xt, kt, bt, tc.act))
		})
	}
}

// encoder builds a transformer encoder (T steps, d features, heads heads of
// d/heads, blocks blocks: LayerNormalization -> self-attention -> Add ->
// LayerNormalization -> Dense(ff, relu) -> Dense(d) -> Add; then
// GlobalAveragePooling1D -> Dense(1)) with random weights.
func encoder(tb testing.TB, T, d, heads, ff, blocks int) *Model {
	var nodes []Node
	add := func(l Layer, in ...int) int {
		nodes = append(nodes, Node{Layer: l, Inputs: in})
		return len(nodes) - 1
	}
	x := Input
	for b := 0; b < blocks; b++ {
		ln := add(&LayerNormalization{LayerName: fmt.Sprintf("ln%d_a", b), Axis: -1, Epsilon: 1e-6, Center: true, Scale: true}, x)
		att := add(&MultiHeadAttention{LayerName: fmt.Sprintf("mha%d", b), NumHeads: heads, KeyDim: d / heads, UseBias: true}, ln, ln)
		res := add(&Merge{LayerName: fmt.Sprintf("add%d_a", b), Op: Add}, att, x)
		ln2 := add(&LayerNormalization{LayerName: fmt.Sprintf("ln%d_b", b), Axis: -1, Epsilon: 1e-6, Center: true, Scale: true}, res)
		h := add(&Dense{LayerName: fmt.Sprintf("ff%d_a", b), Units: ff, UseBias: true, Activation: MustActivation("relu", true)}, ln2)
		h2 := add(&Dense{LayerName: fmt.Sprintf("ff%d_b", b), Units: d, UseBias: true, Activation: MustActivation("linear", true)}, h)
		x = add(&Merge{LayerName: fmt.Sprintf("add%d_b", b), Op: Add}, h2, res)
	}
	g := add(&GlobalPooling1D{LayerName: "gap", Kind: AvgPool}, x)
	add(&Dense{LayerName: "head", Units: 1, UseBias: true, Activation: MustActivation("linear", true)}, g)
	m, err := NewModel("encoder", Shape{T, d}, nodes)
	if err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	var arrays [][]float32
	for _, w := range m.Weights() {
		a := make([]float32, w.Shape.Size())
		for i := range a {
			a[i] = float32(r.Float64()*2-1) * 0.3
		}
		arrays = append(arrays, a)
	}
	if err := m.SetWeights(arrays); err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestAttentionNoAllocs: a transformer encoder's forward pass allocates
// nothing at steady state, at batch 1 and 64.
func TestAttentionNoAllocs(t *testing.T) {
	m := encoder(t, 20, 16, 2, 8, 2)
	for _, n := range []int{1, 64} {
		x := make([]float32, n*m.InputShape().Size())
		for i := range x {
			x[i] = float32(i%7) * 0.1
		}
		dst := make([]float32, n)
		if err := m.Forward(dst, x, n); err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(5, func() { _ = m.Forward(dst, x, n) }); a != 0 {
			t.Errorf("batch %d: %.0f allocations per forward pass", n, a)
		}
	}
}

// BenchmarkTransformerEncoder: T 60, d 32, 2 heads (key_dim 16), 2 blocks,
// feed-forward 64, batch 1 and 64.
func BenchmarkTransformerEncoder(b *testing.B) {
	m := encoder(b, 60, 32, 2, 64, 2)
	for _, batch := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			x := make([]float32, batch*m.InputShape().Size())
			for i := range x {
				x[i] = float32(math.Sin(float64(i)))
			}
			dst := make([]float32, batch)
			if err := m.Forward(dst, x, batch); err != nil {
				b.Fatal(err)
			}
			measure(b, batch, func() {
				if err := m.Forward(dst, x, batch); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// TestAttentionBounds: sizes a hostile config could ask for are refused by
// Build, before anything is allocated.
func TestAttentionBounds(t *testing.T) {
	for _, tc := range []struct {
		l  Layer
		in []Shape
	}{
		{&MultiHeadAttention{LayerName: "m", NumHeads: 1 << 20, KeyDim: 4}, []Shape{{5, 4}, {5, 4}}},
		{&MultiHeadAttention{LayerName: "m", NumHeads: 1 << 15, KeyDim: 1 << 15}, []Shape{{5, 4}, {5, 4}}},
		{&MultiHeadAttention{LayerName: "m", NumHeads: 2, KeyDim: 4}, []Shape{{1 << 13, 4}, {1 << 13, 4}}},
		{&Attention{LayerName: "a"}, []Shape{{5, 1 << 30}, {5, 1 << 30}}},
		{&EinsumDense{LayerName: "e", Equation: "abc,cd->abd", OutputShape: []int{0, 1 << 40}}, []Shape{{5, 4}}},
		{&EinsumDense{LayerName: "e", Equation: "abc,cd->abd", OutputShape: []int{0, 1 << 20}}, []Shape{{1 << 10, 4}}},
	} {
		if _, err := tc.l.Build(tc.in); err == nil {
			t.Errorf("%s %+v on %v: built", tc.l.Class(), tc.l, tc.in)
		}
	}
}

// TestEinsumDenseRefusals: equations outside what EinsumDense computes are
// errors naming the equation.
func TestEinsumDenseRefusals(t *testing.T) {
	for _, eq := range []string{"abc,bcd->abd", "abc,cd->ab", "abc,de->abde", "abc,cd", "ab...,bc->ac...", "abc,cd->bad", "abc,cd->abd,x"} {
		l := &EinsumDense{LayerName: "e", Equation: eq, OutputShape: []int{0, 3}}
		if _, err := l.Build([]Shape{{5, 4}}); err == nil {
			t.Errorf("%s: built", eq)
		}
	}
}
