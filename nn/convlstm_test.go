package nn

import (
	"fmt"
	"strings"
	"testing"
)

// refConvLSTM is an independent float64 ConvLSTM2D over one sample x (T,
// R, C, ch) in Keras layouts: direct convolution sums, explicit padding
// (top/left of the input conv; the recurrent conv pads (k-1)/2 before,
// TensorFlow's "same" at stride 1). It returns (T', R', C', f) values.
type refConvLSTM struct {
	f, kr, kc          int
	sr, sc, dr, dc     int
	pt, pl, orow, ocol int // input conv padding before, output size
	kernel, rec, bias  []float32
	act, ra            string
	seq, back          bool
}

func (c refConvLSTM) run(x []float32, T, R, C, ch int) []float64 {
	f, G := c.f, 4*c.f
	act, ra := refAct(c.act), refAct(c.ra)
	P := c.orow * c.ocol
	h := make([]float64, P*f)
	cs := make([]float64, P*f)
	var out []float64
	for s := 0; s < T; s++ {
		t := s
		if c.back {
			t = T - 1 - s
		}
		z := make([]float64, P*G)
		for or := 0; or < c.orow; or++ {
			for oc := 0; oc < c.ocol; oc++ {
				p := or*c.ocol + oc
				for g := 0; g < G; g++ {
					v := 0.0
					if c.bias != nil {
						v = float64(c.bias[g])
					}
					for i := 0; i < c.kr; i++ {
						for j := 0; j < c.kc; j++ {
							r, q := or*c.sr-c.pt+i*c.dr, oc*c.sc-c.pl+j*c.dc
							if r >= 0 && r < R && q >= 0 && q < C {
								for k := 0; k < ch; k++ {
									v += float64(x[((t*R+r)*C+q)*ch+k]) * float64(c.kernel[((i*c.kc+j)*ch+k)*G+g])
								}
							}
							r, q = or-(c.kr-1)/2+i, oc-(c.kc-1)/2+j
							if r >= 0 && r < c.orow && q >= 0 && q < c.ocol {
								for k := 0; k < f; k++ {
									v += h[(r*c.ocol+q)*f+k] * float64(c.rec[((i*c.kc+j)*f+k)*G+g])
								}
							}
						}
					}
					z[p*G+g] = v
				}
			}
		}
		for p := 0; p < P; p++ {
			for k := 0; k < f; k++ {
				zi, zf, zc, zo := z[p*G+k], z[p*G+f+k], z[p*G+2*f+k], z[p*G+3*f+k]
				cv := ra(zf)*cs[p*f+k] + ra(zi)*act(zc)
				cs[p*f+k] = cv
				h[p*f+k] = ra(zo) * act(cv)
			}
		}
		if c.seq {
			out = append(out, h...)
		}
	}
	if !c.seq {
		out = append(out, h...)
	}
	return out
}

func TestConvLSTM2DReference(t *testing.T) {
	type tc struct {
		name                string
		T, R, C, ch, f, n   int
		kr, kc, sr, sc      int
		dr, dc              int
		padding             string
		pt, pl, orow, ocol  int
		act, ra             string
		bias, seq, back, d1 bool
	}
	cases := []tc{
		// The tutorial's: (n_seq=2, 1, n_steps=3, 1), kernel (1, 2), relu.
		{"tutorial", 2, 1, 3, 1, 64, 5, 1, 2, 1, 1, 1, 1, "valid", 0, 0, 1, 2, "relu", "hard_sigmoid", true, false, false, false},
		{"same2x2seq", 3, 4, 3, 2, 5, 3, 2, 2, 1, 1, 1, 1, "same", 0, 0, 4, 3, "tanh", "hard_sigmoid", false, true, false, false},
		{"same3x3back", 4, 5, 4, 3, 6, 4, 3, 3, 1, 1, 1, 1, "same", 1, 1, 5, 4, "tanh", "sigmoid", true, false, true, false},
		{"stride2same", 3, 5, 6, 2, 4, 3, 3, 2, 2, 2, 1, 1, "same", 1, 0, 3, 3, "tanh", "sigmoid", true, true, true, false},
		{"dilated", 3, 6, 5, 2, 3, 2, 2, 2, 1, 1, 2, 2, "valid", 0, 0, 4, 3, "relu", "sigmoid", true, false, false, false},
		{"chunked", 2, 12, 12, 1, 3, 3, 3, 3, 1, 1, 1, 1, "same", 1, 1, 12, 12, "tanh", "sigmoid", true, false, false, false},
		{"conv1d", 4, 1, 7, 2, 5, 6, 1, 3, 1, 1, 1, 1, "same", 0, 1, 1, 7, "tanh", "sigmoid", true, true, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kk := c.kr * c.kc
			kernel := fwdRand(21, kk*c.ch*4*c.f)
			rec := fwdRand(22, kk*c.f*4*c.f)
			for i := range rec {
				rec[i] *= 0.3
			}
			var bias []float32
			weights := [][]float32{kernel, rec}
			if c.bias {
				bias = fwdRand(23, 4*c.f)
				weights = append(weights, bias)
			}
			x := fwdRand(24, c.n*c.T*c.R*c.C*c.ch)
			l := &ConvLSTM2D{LayerName: "conv_lstm", OneD: c.d1, Filters: c.f, KernelSize: [2]int{c.kr, c.kc},
				Strides: [2]int{c.sr, c.sc}, DilationRate: [2]int{c.dr, c.dc}, Padding: c.padding, UseBias: c.bias,
				ReturnSequences: c.seq, GoBackwards: c.back,
				Activation: MustActivation(c.act, false), RecurrentActivation: MustActivation(c.ra, false)}
			in := Shape{c.T, c.R, c.C, c.ch}
			if c.d1 {
				in = Shape{c.T, c.C, c.ch}
			}
			out, y := fwdLayer(t, l, []Shape{in}, weights, c.n, x)
			want0 := Shape{c.orow, c.ocol, c.f}
			if c.d1 {
				want0 = Shape{c.ocol, c.f}
			}
			if c.seq {
				want0 = append(Shape{c.T}, want0...)
			}
			if !out.Equal(want0) {
				t.Fatalf("output shape %v, want %v", out, want0)
			}
			ref := refConvLSTM{f: c.f, kr: c.kr, kc: c.kc, sr: c.sr, sc: c.sc, dr: c.dr, dc: c.dc,
				pt: c.pt, pl: c.pl, orow: c.orow, ocol: c.ocol, kernel: kernel, rec: rec, bias: bias,
				act: c.act, ra: c.ra, seq: c.seq, back: c.back}
			var want []float64
			sz := c.T * c.R * c.C * c.ch
			for b := 0; b < c.n; b++ {
				want = append(want, ref.run(x[b*sz:(b+1)*sz], c.T, c.R, c.C, c.ch)...)
			}
			fwdClose(t, y, want)
		})
	}
}

func TestConvLSTM2DShapesAndErrors(t *testing.T) {
	mk := func() *ConvLSTM2D {
		return &ConvLSTM2D{LayerName: "c", Filters: 4, KernelSize: [2]int{2, 2}, UseBias: true}
	}
	l := mk()
	if _, err := l.Build([]Shape{{3, 1, 3, 1}}); err == nil || !strings.Contains(err.Error(), "span") {
		t.Fatalf("2x2 kernel over 1 row, valid: %v", err)
	}
	l = mk()
	l.Strides, l.DilationRate = [2]int{2, 1}, [2]int{1, 2}
	if _, err := l.Build([]Shape{{3, 6, 6, 1}}); err == nil || !strings.Contains(err.Error(), "incompatible") {
		t.Fatalf("strides with dilation: %v", err)
	}
	l = mk()
	if _, err := l.Build([]Shape{{3, 6}}); err == nil || !strings.Contains(err.Error(), "rank 4") {
		t.Fatalf("rank 2: %v", err)
	}
	l = mk()
	l.Padding = "causal"
	if _, err := l.Build([]Shape{{3, 6, 6, 1}}); err == nil || !strings.Contains(err.Error(), "padding") {
		t.Fatalf("causal: %v", err)
	}
	l = mk()
	out, err := l.Build([]Shape{{3, 6, 5, 2}})
	if err != nil || fmt.Sprint(out) != "(None, 5, 4, 4)" {
		t.Fatalf("valid 2x2 over (6, 5): %v %v", out, err)
	}
	var names []string
	for _, p := range l.Weights() {
		names = append(names, fmt.Sprint(p.Name, []int(p.Shape)))
	}
	if got := strings.Join(names, " "); got != "kernel[2 2 2 16] recurrent_kernel[2 2 4 16] bias[16]" {
		t.Fatalf("weights: %s", got)
	}
	d1 := &ConvLSTM2D{LayerName: "c", OneD: true, Filters: 4, KernelSize: [2]int{1, 3}, ReturnSequences: true}
	out, err = d1.Build([]Shape{{5, 7, 2}})
	if err != nil || fmt.Sprint(out) != "(None, 5, 5, 4)" || d1.Class() != "ConvLSTM1D" || fmt.Sprint(d1.Weights()[0].Shape) != "(None, 3, 2, 16)" {
		t.Fatalf("ConvLSTM1D: %v %v %s %v", out, err, d1.Class(), d1.Weights()[0].Shape)
	}
}

// BenchmarkConvLSTM2DTutorial is the tutorial's ConvLSTM2D(64, (1, 2),
// relu) over (2, 1, 3, 1), at batch 1 and 64.
func BenchmarkConvLSTM2DTutorial(b *testing.B) {
	for _, n := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch%d", n), func(b *testing.B) {
			l := &ConvLSTM2D{LayerName: "c", Filters: 64, KernelSize: [2]int{1, 2}, UseBias: true,
				Activation: MustActivation("relu", false), RecurrentActivation: MustActivation("hard_sigmoid", false)}
			out, err := l.Build([]Shape{{2, 1, 3, 1}})
			if err != nil {
				b.Fatal(err)
			}
			for i, p := range l.Weights() {
				p.Value = fwdRand(uint64(30+i), p.Shape.Size())
			}
			if err := l.Prepare(); err != nil {
				b.Fatal(err)
			}
			x := fwdRand(40, n*6)
			y := make([]float32, n*out.Size())
			scratch := make([]float32, l.ScratchSize(n))
			measure(b, n, func() { l.Forward(y, [][]float32{x}, n, scratch) })
		})
	}
}
