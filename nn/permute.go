package nn

// Permute is keras.layers.Permute: Dims is a permutation of 1..rank over
// the per-sample axes (the batch axis stays first), as in Keras's dims.
// Output axis i is input axis Dims[i]-1; Permute((2, 1)) transposes a
// (T, F) input to (F, T).
type Permute struct {
	LayerName string
	Dims      []int

	size    int
	out     Shape
	strides []int // input stride of each output axis
}

// Class returns "Permute".
func (l *Permute) Class() string { return "Permute" }

// Name is the Keras layer name.
func (l *Permute) Name() string { return l.LayerName }

// Build checks that Dims is a permutation of the input's axes.
func (l *Permute) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	r := len(in[0])
	if len(l.Dims) != r {
		return nil, errorf(l, "dims %v: want a permutation of 1..%d for input %v", l.Dims, r, in[0])
	}
	inStride := make([]int, r)
	s := 1
	for i := r - 1; i >= 0; i-- {
		inStride[i] = s
		s *= in[0][i]
	}
	seen := make([]bool, r)
	l.out = make(Shape, r)
	l.strides = make([]int, r)
	for i, d := range l.Dims {
		if d < 1 || d > r || seen[d-1] {
			return nil, errorf(l, "dims %v: want a permutation of 1..%d for input %v", l.Dims, r, in[0])
		}
		seen[d-1] = true
		l.out[i] = in[0][d-1]
		l.strides[i] = inStride[d-1]
	}
	l.size = in[0].Size()
	return l.out.Clone(), nil
}

// Weights returns nil.
func (l *Permute) Weights() []*Param { return nil }

// Prepare does nothing.
func (l *Permute) Prepare() error { return nil }

// ScratchSize is 0.
func (l *Permute) ScratchSize(n int) int { return 0 }

// Forward gathers each output element from its input position.
func (l *Permute) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	x := ins[0]
	if len(l.out) == 2 {
		a, b := l.out[0], l.out[1]
		sa, sb := l.strides[0], l.strides[1]
		for s := 0; s < n; s++ {
			src, dst := x[s*l.size:(s+1)*l.size], out[s*l.size:(s+1)*l.size]
			for i := 0; i < a; i++ {
				row := dst[i*b : (i+1)*b]
				for j := range row {
					row[j] = src[i*sa+j*sb]
				}
			}
		}
		return
	}
	r := len(l.out)
	var idx [8]int // output index; ranks above 8 take the slow path below
	for s := 0; s < n; s++ {
		src, dst := x[s*l.size:(s+1)*l.size], out[s*l.size:(s+1)*l.size]
		if r > len(idx) {
			for o := range dst {
				off, rem := 0, o
				for i := r - 1; i >= 0; i-- {
					off += (rem % l.out[i]) * l.strides[i]
					rem /= l.out[i]
				}
				dst[o] = src[off]
			}
			continue
		}
		clear(idx[:r])
		off := 0
		for o := range dst {
			dst[o] = src[off]
			for i := r - 1; i >= 0; i-- { // odometer increment
				idx[i]++
				off += l.strides[i]
				if idx[i] < l.out[i] {
					break
				}
				off -= idx[i] * l.strides[i]
				idx[i] = 0
			}
		}
	}
}
