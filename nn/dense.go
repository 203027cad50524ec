package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// Dense is keras.layers.Dense: applied on the last axis, so a (T, F) input
// gives (T, Units), one product per time step. Weights: kernel (in, Units),
// then bias (Units) when UseBias.
type Dense struct {
	LayerName  string
	Units      int
	UseBias    bool
	Activation Activation

	in, rows     int // last-axis length; rows per sample (product of leading dims)
	kernel, bias *Param
	params       []*Param
	w            rhs // the kernel, laid out by Prepare
}

// TimeDistributed is keras.layers.TimeDistributed: Inner is applied to each
// step of a (T, ...) input independently. Its weights are Inner's.
type TimeDistributed struct {
	LayerName string
	Inner     Layer

	steps int
}

// Class returns "Dense".
func (l *Dense) Class() string { return "Dense" }

// Name returns the Keras layer name.
func (l *Dense) Name() string { return l.LayerName }

// Build accepts an input of any rank >= 1 and replaces its last axis by Units.
func (l *Dense) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	if len(s) == 0 {
		return nil, errorf(l, "input shape %v: want rank >= 1", s)
	}
	if l.Units <= 0 {
		return nil, errorf(l, "units: must be positive, got %d", l.Units)
	}
	l.in = s[len(s)-1]
	l.rows = s[:len(s)-1].Size()
	l.kernel = &Param{Name: "kernel", Shape: Shape{l.in, l.Units}}
	l.params = []*Param{l.kernel}
	if l.UseBias {
		l.bias = &Param{Name: "bias", Shape: Shape{l.Units}}
		l.params = append(l.params, l.bias)
	}
	out := s.Clone()
	out[len(out)-1] = l.Units
	return out, nil
}

// Weights returns kernel and, with UseBias, bias.
func (l *Dense) Weights() []*Param { return l.params }

// Prepare checks the weights' sizes and lays the kernel out for the GEMM.
func (l *Dense) Prepare() error {
	if err := checkParams(l); err != nil {
		return err
	}
	l.w = newRHS(l.kernel.Value, l.in, l.Units)
	return nil
}

// ScratchSize is 0: Dense multiplies in place into out.
func (l *Dense) ScratchSize(n int) int { return 0 }

// Forward computes n samples: one (n*rows, in) x (in, Units) GEMM.
func (l *Dense) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	rows := n * l.rows
	out = out[:rows*l.Units]
	if l.UseBias {
		fillRows(out, l.bias.Value)
	} else {
		clear(out)
	}
	l.w.mulAdd(rows, ins[0], l.in, out, l.Units)
	l.Activation.Apply(out, l.Units)
}

// Class returns "TimeDistributed".
func (l *TimeDistributed) Class() string { return "TimeDistributed" }

// Name returns the Keras layer name.
func (l *TimeDistributed) Name() string { return l.LayerName }

// Build builds Inner on the input shape without its leading (time) axis and
// puts the time axis back in front of Inner's output shape.
func (l *TimeDistributed) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	if len(s) < 2 {
		return nil, errorf(l, "input shape %v: want rank >= 2 (steps, ...)", s)
	}
	if l.Inner == nil {
		return nil, errorf(l, "layer: no inner layer")
	}
	inner, err := l.Inner.Build([]Shape{s[1:].Clone()})
	if err != nil {
		return nil, errorf(l, "%v", err)
	}
	l.steps = s[0]
	return append(Shape{l.steps}, inner...), nil
}

// Weights returns Inner's weights.
func (l *TimeDistributed) Weights() []*Param { return l.Inner.Weights() }

// Prepare prepares Inner.
func (l *TimeDistributed) Prepare() error {
	if err := l.Inner.Prepare(); err != nil {
		return errorf(l, "%v", err)
	}
	return nil
}

// ScratchSize is Inner's for n*T samples.
func (l *TimeDistributed) ScratchSize(n int) int { return l.Inner.ScratchSize(n * l.steps) }

// Forward runs Inner once on the n*T steps as a batch: the data of n samples
// of (T, ...) is exactly that of n*T samples of (...).
func (l *TimeDistributed) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	l.Inner.Forward(out, ins, n*l.steps, scratch)
}

// GEMM tiles small enough that gonum's Sgemm stays on its serial path (it
// spawns goroutines, and so allocates, from 4 blocks of 64x64 up).
const (
	gemmTileRows = 64
	gemmTileCols = 3 * 64
)

// rhs is a layer's constant right-hand matrix B (k×n) for products
// c += a·B, kept in whichever layout multiplies faster with gonum's serial
// Sgemm: transposed (n×k, every output one contiguous DotUnitary) when the
// output is narrow or the inner dimension is at least as long as a row of
// output (Dense heads: 2-10x faster), else as is (row AXPYs, ~20% faster
// for a Conv1D with few input channels and many filters).
type rhs struct {
	k, n  int
	trans bool
	data  []float32
}

// newRHS prepares the row-major k×n matrix b; it copies b when transposing.
func newRHS(b []float32, k, n int) rhs {
	if n < 16 || k >= n {
		return rhs{k: k, n: n, trans: true, data: transpose(b, k, n)}
	}
	return rhs{k: k, n: n, data: b}
}

// mulAdd computes c += a·B for row-major a (m×k, stride lda) and c (m×n,
// stride ldc), serially and without allocating.
func (r rhs) mulAdd(m int, a []float32, lda int, c []float32, ldc int) {
	if m == 0 || r.n == 0 || r.k == 0 {
		return
	}
	impl := blas32.Implementation()
	for i := 0; i < m; i += gemmTileRows {
		mi := min(gemmTileRows, m-i)
		for j := 0; j < r.n; j += gemmTileCols {
			nj := min(gemmTileCols, r.n-j)
			if r.trans {
				impl.Sgemm(blas.NoTrans, blas.Trans, mi, nj, r.k, 1, a[i*lda:], lda, r.data[j*r.k:], r.k, 1, c[i*ldc+j:], ldc)
			} else {
				impl.Sgemm(blas.NoTrans, blas.NoTrans, mi, nj, r.k, 1, a[i*lda:], lda, r.data[j:], r.n, 1, c[i*ldc+j:], ldc)
			}
		}
	}
}

// transpose returns the n×m transpose of the row-major m×n matrix x.
func transpose(x []float32, m, n int) []float32 {
	t := make([]float32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			t[j*m+i] = x[i*n+j]
		}
	}
	return t
}

// fillRows sets every len(row)-long row of dst to row.
func fillRows(dst, row []float32) {
	for off := 0; off < len(dst); off += len(row) {
		copy(dst[off:off+len(row)], row)
	}
}
