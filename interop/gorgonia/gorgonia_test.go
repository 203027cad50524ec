package gorgonia_test

import (
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/seqcast/seqcast/interop/gorgonia"
	"github.com/seqcast/seqcast/nn"
)

// tinyModel is a (3, 2) -> (3, 1) model: Dense(4, relu) then Dense(1) on the
// last axis, with fixed, asymmetric weights so that any mix-up of axes shows.
func tinyModel(t testing.TB) *nn.Model {
	t.Helper()
	relu, err := nn.NewActivation("relu", false)
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.NewSequential("tiny", nn.Shape{3, 2},
		&nn.Dense{LayerName: "dense", Units: 4, UseBias: true, Activation: relu},
		&nn.Dense{LayerName: "dense_1", Units: 1, UseBias: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	err = m.SetWeights([][]float32{
		{0.5, -1, 0.25, 2, -0.75, 1.5, 1, -0.5}, // kernel (2, 4)
		{0.1, 0.2, -0.3, 0.4},                   // bias (4)
		{1, -2, 0.5, 3},                         // kernel (4, 1)
		{-0.125},                                // bias (1)
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// ramp is n values that differ in every position, so a wrong layout changes
// the model's output.
func ramp(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(math.Sin(float64(i)*0.7)) * float32(1+i%5)
	}
	return v
}

func TestPredictMatchesModel(t *testing.T) {
	m := tinyModel(t)
	const n = 4
	want := ramp(n * 3 * 2) // the logical (4, 3, 2) input, row-major
	at := func(i, j, k int) float32 { return want[(i*3+j)*2+k] }

	tests := []struct {
		name string
		x    func(t *testing.T) *tensor.Dense
	}{
		{"float32 contiguous", func(t *testing.T) *tensor.Dense {
			return tensor.New(tensor.WithShape(n, 3, 2), tensor.WithBacking(slices.Clone(want)))
		}},
		{"float64 converted", func(t *testing.T) *tensor.Dense {
			b := make([]float64, len(want))
			for i, v := range want {
				b[i] = float64(v)
			}
			return tensor.New(tensor.WithShape(n, 3, 2), tensor.WithBacking(b))
		}},
		{"contiguous view of a larger batch", func(t *testing.T) *tensor.Dense {
			// (6, 3, 2) whose samples 1..4 are the input.
			b := append(append(ramp(6), want...), ramp(6)...)
			big := tensor.New(tensor.WithShape(6, 3, 2), tensor.WithBacking(b))
			return slice(t, big, tensor.S(1, 5))
		}},
		{"non-contiguous view", func(t *testing.T) *tensor.Dense {
			// (4, 3, 5) whose features 1..2 are the input.
			b := make([]float32, n*3*5)
			for i := range n {
				for j := range 3 {
					for k := range 2 {
						b[(i*3+j)*5+k+1] = at(i, j, k)
					}
				}
			}
			big := tensor.New(tensor.WithShape(n, 3, 5), tensor.WithBacking(b))
			return slice(t, big, nil, nil, tensor.S(1, 3))
		}},
		{"float64 non-contiguous view", func(t *testing.T) *tensor.Dense {
			// (4, 6, 2) whose every other step is the input.
			b := make([]float64, n*6*2)
			for i := range n {
				for j := range 3 {
					for k := range 2 {
						b[(i*6+2*j)*2+k] = float64(at(i, j, k))
					}
				}
			}
			big := tensor.New(tensor.WithShape(n, 6, 2), tensor.WithBacking(b))
			return slice(t, big, nil, tensor.S(0, 6, 2))
		}},
		{"lazily transposed", func(t *testing.T) *tensor.Dense {
			// (2, 3, 4) holding x[k, j, i], transposed with T(2, 1, 0).
			b := make([]float32, n*3*2)
			for k := range 2 {
				for j := range 3 {
					for i := range n {
						b[(k*3+j)*n+i] = at(i, j, k)
					}
				}
			}
			x := tensor.New(tensor.WithShape(2, 3, n), tensor.WithBacking(b))
			if err := x.T(2, 1, 0); err != nil {
				t.Fatal(err)
			}
			return x
		}},
		{"column-major", func(t *testing.T) *tensor.Dense {
			return tensor.New(tensor.WithShape(n, 3, 2), tensor.AsFortran(slices.Clone(want)))
		}},
	}

	ref, err := m.Predict(want, n)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := tt.x(t)
			before := x.String()
			y, err := gorgonia.Predict(m, x)
			if err != nil {
				t.Fatal(err)
			}
			if got, wantShape := []int(y.Shape()), []int{n, 3, 1}; !slices.Equal(got, wantShape) {
				t.Fatalf("output shape %v, want %v", got, wantShape)
			}
			if y.Dtype() != tensor.Float32 {
				t.Fatalf("output dtype %v, want float32", y.Dtype())
			}
			got := y.Data().([]float32)
			for i := range ref {
				if d := math.Abs(float64(got[i] - ref[i])); d > 1e-6+1e-6*math.Abs(float64(ref[i])) {
					t.Fatalf("output[%d] = %g, want %g (Model.Predict)", i, got[i], ref[i])
				}
			}
			if x.String() != before {
				t.Errorf("Predict modified its input")
			}
		})
	}
}

func slice(t *testing.T, x *tensor.Dense, s ...tensor.Slice) *tensor.Dense {
	t.Helper()
	v, err := x.Slice(s...)
	if err != nil {
		t.Fatal(err)
	}
	return v.(*tensor.Dense)
}

func TestPredictErrors(t *testing.T) {
	m := tinyModel(t)
	tests := []struct {
		name  string
		model *nn.Model
		x     *tensor.Dense
		want  string
	}{
		{"wrong feature count", m, tensor.New(tensor.WithShape(2, 3, 3), tensor.WithBacking(make([]float32, 18))),
			`gorgonia: model "tiny": input shape (2, 3, 3): want (N, 3, 2)`},
		{"no batch axis", m, tensor.New(tensor.WithShape(3, 2), tensor.WithBacking(make([]float32, 6))),
			`input shape (3, 2): want (N, 3, 2)`},
		{"extra axis", m, tensor.New(tensor.WithShape(1, 1, 3, 2), tensor.WithBacking(make([]float32, 6))),
			`input shape (1, 1, 3, 2): want (N, 3, 2)`},
		{"int dtype", m, tensor.New(tensor.WithShape(1, 3, 2), tensor.WithBacking(make([]int, 6))),
			`input dtype int: want float32 or float64`},
		{"masked", m, tensor.New(tensor.WithShape(1, 3, 2), tensor.WithBacking(make([]float32, 6)), tensor.WithMask(make([]bool, 6))),
			`masked tensors are not supported`},
		{"nil tensor", m, nil, `input: nil tensor`},
		{"nil model", nil, tensor.New(tensor.WithShape(1, 3, 2), tensor.WithBacking(make([]float32, 6))), `gorgonia: nil model`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y, err := gorgonia.Predict(tt.model, tt.x)
			if err == nil {
				t.Fatalf("got output %v, want an error containing %q", y, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestFromDenseToDense(t *testing.T) {
	data := ramp(2 * 3 * 2)
	x, err := gorgonia.ToDense(data, 2, nn.Shape{3, 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := []int(x.Shape()); !slices.Equal(got, []int{2, 3, 2}) {
		t.Fatalf("ToDense shape %v, want [2 3 2]", got)
	}
	back, n, err := gorgonia.FromDense(x, nn.Shape{3, 2})
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || !slices.Equal(back, data) {
		t.Fatalf("FromDense(ToDense(x)) = %v, %d; want %v, 2", back, n, data)
	}
	back[0]++
	if data[0] == back[0] {
		t.Fatalf("FromDense aliases the tensor's data; want a copy")
	}

	for _, tt := range []struct {
		name string
		data []float32
		n    int
		want string
	}{
		{"too few values", make([]float32, 5), 1, "5 values for 1 samples of shape (None, 3, 2): want 6"},
		{"zero batch", nil, 0, "batch size must be positive, got 0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := gorgonia.ToDense(tt.data, tt.n, nn.Shape{3, 2})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// minNoMovingGC is the oldest go4.org/unsafe/assume-no-moving-gc known to ask
// the runtime (runtime.heapObjectsCanMove) instead of panicking on Go
// releases newer than the ones it lists; gorgonia.org/tensor v0.9.24 asks for
// v0.0.0-20220617031537-928513b29760, which panics at init on Go 1.26.
const minNoMovingGC = "v0.0.0-20231121144256-b99613f794b6"

// TestInitDoesNotPanic exists to run at all: this test binary imports
// gorgonia.org/tensor, so if its assume-no-moving-gc dependency panicked at
// init the binary would die before any test. It also checks, through the go
// command (test binaries record no module versions), that the version linked
// into this package is the upgraded one.
func TestInitDoesNotPanic(t *testing.T) {
	_ = tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{1}))
	t.Logf("gorgonia.org/tensor initialised under %s", runtime.Version())
	const mod = "go4.org/unsafe/assume-no-moving-gc"
	for _, d := range goListDeps(t, "github.com/seqcast/seqcast/interop/gorgonia") {
		if d.module != mod {
			continue
		}
		if pseudoTime(d.version) < pseudoTime(minNoMovingGC) {
			t.Errorf("%s %s: want %s or later (go get %s@latest)", mod, d.version, minNoMovingGC, mod)
		}
		return
	}
	t.Errorf("%s is not among this package's dependencies; did gorgonia.org/tensor drop it? update this test", mod)
}

// pseudoTime is the timestamp of a v0.0.0-yyyymmddhhmmss-hash pseudo-version
// (the module has no tagged releases).
func pseudoTime(v string) string {
	parts := strings.Split(v, "-")
	if len(parts) < 3 {
		return v
	}
	return parts[len(parts)-2]
}

func BenchmarkPredict(b *testing.B) {
	m := tinyModel(b)
	x := tensor.New(tensor.WithShape(64, 3, 2), tensor.WithBacking(ramp(64*3*2)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := gorgonia.Predict(m, x); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPredictTransposed(b *testing.B) {
	m := tinyModel(b)
	x := tensor.New(tensor.WithShape(2, 3, 64), tensor.WithBacking(ramp(64*3*2)))
	if err := x.T(2, 1, 0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := gorgonia.Predict(m, x); err != nil {
			b.Fatal(err)
		}
	}
}
