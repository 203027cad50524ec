package nn

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestMaskingLayer(t *testing.T) {
	T, F := 4, 2
	x := []float32{
		1, 2, -1, -1, 0, -1, -1, -1,
		-1, -1, -1, -1, -1, -1, -1, -1,
	}
	l := &Masking{LayerName: "m", MaskValue: -1}
	out, y := fwdLayer(t, l, []Shape{{T, F}}, nil, 2, x)
	if !out.Equal(Shape{T, F}) {
		t.Fatalf("shape %v", out)
	}
	want := []float64{1, 2, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	fwdClose(t, y, want)
	mask := make([]float32, 2*T)
	l.forwardMask(y, mask, [][]float32{x}, 2)
	for i, w := range []float32{1, 0, 1, 0, 0, 0, 0, 0} {
		if mask[i] != w {
			t.Fatalf("mask = %v", mask)
		}
	}
}

// TestMaskedRecurrentIsCompacted checks the masked recurrence against the
// same layer run on each sample with its masked steps removed: the final
// output is the state after the kept steps; with return_sequences a masked
// step repeats the previous output (zero before any kept step), or is zero
// with zero_output_for_mask.
func TestMaskedRecurrentIsCompacted(t *testing.T) {
	T, F, u := 7, 3, 4
	masks := [][]float32{
		{1, 1, 1, 1, 1, 1, 1},
		{0, 0, 0, 1, 1, 1, 1},
		{1, 1, 1, 1, 0, 0, 0},
		{1, 0, 1, 1, 0, 1, 0},
		{0, 0, 0, 0, 0, 0, 0},
		{0, 1, 0, 0, 0, 0, 0},
	}
	n := len(masks)
	var mask []float32
	for _, m := range masks {
		mask = append(mask, m...)
	}
	x := fwdRand(21, n*T*F)
	hs := MustActivation("hard_sigmoid", false)
	kinds := []struct {
		name  string
		make  func(seq, back, zero bool) MaskedLayer
		gates int
		bias  int
	}{
		{"lstm", func(seq, back, zero bool) MaskedLayer {
			return &LSTM{LayerName: "l", Units: u, ReturnSequences: seq, GoBackwards: back, UseBias: true,
				Activation: MustActivation("tanh", false), RecurrentActivation: MustActivation("sigmoid", false), ZeroOutputForMask: zero}
		}, 4, 4 * u},
		{"lstm_hard_sigmoid", func(seq, back, zero bool) MaskedLayer {
			return &LSTM{LayerName: "l", Units: u, ReturnSequences: seq, GoBackwards: back, UseBias: true,
				Activation: MustActivation("tanh", false), RecurrentActivation: hs, ZeroOutputForMask: zero}
		}, 4, 4 * u},
		{"gru_after", func(seq, back, zero bool) MaskedLayer {
			return &GRU{LayerName: "g", Units: u, ReturnSequences: seq, GoBackwards: back, UseBias: true, ResetAfter: true,
				Activation: MustActivation("tanh", false), RecurrentActivation: MustActivation("sigmoid", false), ZeroOutputForMask: zero}
		}, 3, 6 * u},
		{"gru_before", func(seq, back, zero bool) MaskedLayer {
			return &GRU{LayerName: "g", Units: u, ReturnSequences: seq, GoBackwards: back, UseBias: true,
				Activation: MustActivation("tanh", false), RecurrentActivation: MustActivation("sigmoid", false), ZeroOutputForMask: zero}
		}, 3, 3 * u},
		{"simplernn", func(seq, back, zero bool) MaskedLayer {
			return &SimpleRNN{LayerName: "s", Units: u, ReturnSequences: seq, GoBackwards: back, UseBias: true,
				Activation: MustActivation("tanh", false), ZeroOutputForMask: zero}
		}, 1, u},
	}
	for _, k := range kinds {
		w := [][]float32{fwdRand(31, F*k.gates*u), fwdRand(32, u*k.gates*u), fwdRand(33, k.bias)}
		for _, seq := range []bool{false, true} {
			for _, back := range []bool{false, true} {
				for _, zero := range []bool{false, true} {
					name := k.name
					if seq {
						name += "_seq"
					}
					if back {
						name += "_back"
					}
					if zero {
						name += "_zero"
					}
					t.Run(name, func(t *testing.T) {
						got := maskedForward(t, k.make(seq, back, zero), Shape{T, F}, w, n, x, mask)
						want := compactedRef(t, func() Layer { return k.make(seq, back, zero) }, w, x, masks, T, F, u, seq, back, zero)
						fwdClose(t, got, want)
						// One sample at a time (the LSTM's step-by-step path).
						per := len(got) / n
						for s := 0; s < n; s++ {
							one := maskedForward(t, k.make(seq, back, zero), Shape{T, F}, w, 1, x[s*T*F:(s+1)*T*F], mask[s*T:(s+1)*T])
							fwdClose(t, one, want[s*per:(s+1)*per])
						}
					})
				}
			}
		}
	}
}

// compactedRef runs each sample's kept steps through a fresh layer and
// places the outputs where Keras puts them.
func compactedRef(t *testing.T, mk func() Layer, w [][]float32, x []float32, masks [][]float32, T, F, u int, seq, back, zero bool) []float64 {
	var want []float64
	for s, m := range masks {
		var kept []int // time indices in processing order
		for i := 0; i < T; i++ {
			tt := i
			if back {
				tt = T - 1 - i
			}
			if m[tt] != 0 {
				kept = append(kept, tt)
			}
		}
		var outs []float32 // per processed kept step, u values
		if len(kept) > 0 {
			xc := make([]float32, 0, len(kept)*F)
			// The compacted layer runs forwards over the kept steps in
			// processing order, so feed them in that order.
			for _, tt := range kept {
				xc = append(xc, x[(s*T+tt)*F:(s*T+tt+1)*F]...)
			}
			l := mk()
			switch l := l.(type) {
			case *LSTM:
				l.ReturnSequences, l.GoBackwards = true, false
			case *GRU:
				l.ReturnSequences, l.GoBackwards = true, false
			case *SimpleRNN:
				l.ReturnSequences, l.GoBackwards = true, false
			}
			_, outs = fwdLayer(t, l, []Shape{{len(kept), F}}, w, 1, xc)
		}
		prev := make([]float32, u)
		j := 0
		seqOut := make([]float64, T*u)
		for i := 0; i < T; i++ {
			tt := i
			if back {
				tt = T - 1 - i
			}
			if m[tt] != 0 {
				prev = outs[j*u : (j+1)*u]
				j++
				for c := 0; c < u; c++ {
					seqOut[i*u+c] = float64(prev[c])
				}
			} else if !zero {
				for c := 0; c < u; c++ {
					seqOut[i*u+c] = float64(prev[c])
				}
			}
		}
		if seq {
			want = append(want, seqOut...)
			continue
		}
		want = append(want, seqOut[(T-1)*u:]...)
	}
	return want
}

// TestMaskedBidirectional: both directions read the mask; with
// return_sequences Keras forces zero_output_for_mask on both.
func TestMaskedBidirectional(t *testing.T) {
	T, F, u := 5, 2, 3
	mask := []float32{0, 1, 1, 0, 1, 1, 1, 1, 1, 0}
	n := 2
	x := fwdRand(41, n*T*F)
	w := [][]float32{fwdRand(42, F*4*u), fwdRand(43, u*4*u), fwdRand(44, 4*u)}
	mk := func(seq, back bool) *LSTM {
		return &LSTM{LayerName: "l", Units: u, ReturnSequences: seq, GoBackwards: back, UseBias: true,
			Activation: MustActivation("tanh", false), RecurrentActivation: MustActivation("sigmoid", false)}
	}
	for _, seq := range []bool{false, true} {
		bi := &Bidirectional{LayerName: "bi", ForwardLayer: mk(seq, false), BackwardLayer: mk(seq, true), MergeMode: "concat"}
		got := maskedForward(t, bi, Shape{T, F}, append(append([][]float32{}, w...), w...), n, x, mask)
		f := maskedForward(t, &LSTM{LayerName: "f", Units: u, ReturnSequences: seq, UseBias: true, ZeroOutputForMask: seq,
			Activation: MustActivation("tanh", false), RecurrentActivation: MustActivation("sigmoid", false)}, Shape{T, F}, w, n, x, mask)
		b := maskedForward(t, &LSTM{LayerName: "b", Units: u, ReturnSequences: seq, GoBackwards: true, UseBias: true, ZeroOutputForMask: seq,
			Activation: MustActivation("tanh", false), RecurrentActivation: MustActivation("sigmoid", false)}, Shape{T, F}, w, n, x, mask)
		var want []float64
		rows := 1
		if seq {
			rows = T
		}
		for s := 0; s < n; s++ {
			for r := 0; r < rows; r++ {
				want = append(want, f64(f[(s*rows+r)*u:(s*rows+r+1)*u])...)
				br := r
				if seq {
					br = T - 1 - r // the backward layer's outputs are in processing order
				}
				want = append(want, f64(b[(s*rows+br)*u:(s*rows+br+1)*u])...)
			}
		}
		fwdClose(t, got, want)
		if seq {
			for i, v := range got[3*2*u : 4*2*u] { // sample 0, step 3 is masked
				if v != 0 {
					t.Fatalf("masked step output [%d] = %g, want 0", i, v)
				}
			}
		}
	}
}

func TestMaskPlan(t *testing.T) {
	lstm := func(name string, seq bool) *LSTM {
		return &LSTM{LayerName: name, Units: 2, ReturnSequences: seq, UseBias: true,
			Activation: MustActivation("tanh", false), RecurrentActivation: MustActivation("sigmoid", false)}
	}
	in := Shape{6, 2}
	mask := func() *Masking { return &Masking{LayerName: "masking"} }
	for _, tc := range []struct {
		name      string
		nodes     []Node
		err       string
		consumers []int
		drops     []int
	}{
		{"chain", []Node{{mask(), []int{Input}}, {&Identity{LayerName: "drop", ClassName: "Dropout"}, []int{0}},
			{&Dense{LayerName: "d", Units: 3, UseBias: true}, []int{1}}, {lstm("l1", true), []int{2}}, {lstm("l2", false), []int{3}},
			{&Dense{LayerName: "out", Units: 1, UseBias: true}, []int{4}}}, "", []int{3, 4}, nil},
		{"global_avg", []Node{{mask(), []int{Input}}, {&GlobalPooling1D{LayerName: "gap", Kind: AvgPool}, []int{0}}}, "averages only the unmasked", nil, nil},
		{"conv_drops", []Node{{mask(), []int{Input}}, {&Conv1D{LayerName: "c", Filters: 2, KernelSize: 2, Strides: 1, DilationRate: 1, Padding: "same"}, []int{0}},
			{lstm("l", false), []int{1}}}, "", nil, []int{1}},
		{"two_masks", []Node{{mask(), []int{Input}}, {&Masking{LayerName: "m2", MaskValue: 1}, []int{Input}},
			{&Merge{LayerName: "add", Op: Add}, []int{0, 1}}}, "two Masking layers", nil, nil},
		{"concat_time", []Node{{mask(), []int{Input}}, {&Merge{LayerName: "cat", Op: Concatenate, Axis: 1}, []int{0, Input}}}, "concatenation axis", nil, nil},
		{"merge_one_masked", []Node{{mask(), []int{Input}}, {&Merge{LayerName: "mul", Op: Multiply}, []int{0, Input}},
			{lstm("l", false), []int{1}}}, "", []int{2}, nil},
		{"lstm_last_ends_mask", []Node{{mask(), []int{Input}}, {lstm("l", false), []int{0}}, {&RepeatVector{LayerName: "rv", N: 3}, []int{1}}}, "", []int{1}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewModel("m", in, tc.nodes)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := m.MaskConsumers(); !slices.Equal(got, tc.consumers) {
				t.Errorf("consumers %v, want %v", got, tc.consumers)
			}
			var drops []int
			for _, d := range m.MaskDrops() {
				drops = append(drops, d.Node)
			}
			if !slices.Equal(drops, tc.drops) {
				t.Errorf("drops %v, want %v", drops, tc.drops)
			}
		})
	}
}

// TestMaskedModel runs Masking -> Dropout -> LSTM(seq) -> GRU through a
// Model (chunks of 64, zero allocations) and checks it against the layers
// run by hand with the mask.
func TestMaskedModel(t *testing.T) {
	T, F, n := 5, 2, 70
	x := fwdRand(51, n*T*F)
	for s := 0; s < n; s++ { // mask the first s%4 steps with the mask value
		for i := 0; i < s%4; i++ {
			for f := 0; f < F; f++ {
				x[(s*T+i)*F+f] = -2
			}
		}
	}
	mk := func() (*LSTM, *GRU) {
		return &LSTM{LayerName: "l", Units: 3, ReturnSequences: true, UseBias: true,
				Activation: MustActivation("tanh", false), RecurrentActivation: MustActivation("sigmoid", false)},
			&GRU{LayerName: "g", Units: 2, UseBias: true, ResetAfter: true,
				Activation: MustActivation("tanh", false), RecurrentActivation: MustActivation("sigmoid", false)}
	}
	l, g := mk()
	m, err := NewModel("m", Shape{T, F}, []Node{{&Masking{LayerName: "mask", MaskValue: -2}, []int{Input}},
		{&Identity{LayerName: "drop", ClassName: "Dropout"}, []int{0}}, {l, []int{1}}, {g, []int{2}}})
	if err != nil {
		t.Fatal(err)
	}
	var ws [][]float32
	for i, r := range m.Weights() {
		ws = append(ws, fwdRand(uint64(60+i), r.Shape.Size()))
	}
	if err := m.SetWeights(ws); err != nil {
		t.Fatal(err)
	}
	y := make([]float32, n*2)
	if err := m.Forward(y, x, n); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(3, func() { _ = m.Forward(y, x, n) }); a != 0 {
		t.Errorf("masked Forward allocates %v times", a)
	}
	mask := make([]float32, n*T)
	xm := make([]float32, len(x))
	(&Masking{LayerName: "mask", MaskValue: -2, steps: T, feat: F}).forwardMask(xm, mask, [][]float32{x}, n)
	l2, g2 := mk()
	h := maskedForward(t, l2, Shape{T, F}, ws[:3], n, xm, mask)
	want := maskedForward(t, g2, Shape{T, 3}, ws[3:], n, h, mask)
	fwdClose(t, y, f64(want))
	// The mask changes the result: without it the numbers differ.
	l3, g3 := mk()
	plain, err := NewSequential("p", Shape{T, F}, l3, g3)
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.SetWeights(ws); err != nil {
		t.Fatal(err)
	}
	py, _ := plain.Predict(xm, n)
	if d := math.Abs(float64(py[2] - y[2])); d < 1e-4 {
		t.Errorf("masked and unmasked outputs agree (%g): the mask had no effect", d)
	}
}
