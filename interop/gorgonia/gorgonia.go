package gorgonia

import (
	"errors"
	"fmt"

	"gorgonia.org/tensor"

	"github.com/seqcast/seqcast/nn"
)

// Predict runs model m on x, a (N, ...m.InputShape()) tensor of Float32 or
// Float64, and returns a new (N, ...m.OutputShape()) Float32 tensor. x may be
// a view, transposed or column-major; it is read, never modified.
func Predict(m *nn.Model, x *tensor.Dense) (*tensor.Dense, error) {
	if m == nil {
		return nil, errors.New("gorgonia: nil model")
	}
	data, n, err := FromDense(x, m.InputShape())
	if err != nil {
		return nil, fmt.Errorf("gorgonia: model %q: %w", m.Name(), err)
	}
	y, err := m.Predict(data, n)
	if err != nil {
		return nil, fmt.Errorf("gorgonia: model %q: %w", m.Name(), err)
	}
	return ToDense(y, n, m.OutputShape())
}

// FromDense copies x, a (N, ...sample) tensor of Float32 or Float64, into a
// new flat row-major []float32 of N*sample.Size() values, the layout
// nn.Model.Forward takes, and returns it with the batch size N. Errors name
// the expected shape or dtype.
func FromDense(x *tensor.Dense, sample nn.Shape) ([]float32, int, error) {
	if x == nil {
		return nil, 0, errors.New("input: nil tensor")
	}
	shape := x.Shape()
	if len(shape) != len(sample)+1 || shape[0] <= 0 || !nn.Shape(shape[1:]).Equal(sample) {
		return nil, 0, fmt.Errorf("input shape %s: want %s", fmtShape(shape), fmtBatchShape(sample))
	}
	if x.IsMasked() {
		return nil, 0, errors.New("input: masked tensors are not supported")
	}
	n := shape[0]
	size := n * sample.Size()
	dst := make([]float32, size)
	switch dt := x.Dtype(); dt {
	case tensor.Float32:
		if src, ok := contiguous[float32](x, size); ok {
			copy(dst, src)
			return dst, n, nil
		}
	case tensor.Float64:
		if src, ok := contiguous[float64](x, size); ok {
			for i, v := range src {
				dst[i] = float32(v)
			}
			return dst, n, nil
		}
	default:
		return nil, 0, fmt.Errorf("input dtype %v: want float32 or float64", dt)
	}
	if err := gather(dst, x); err != nil {
		return nil, 0, fmt.Errorf("input shape %s: %w", fmtShape(shape), err)
	}
	return dst, n, nil
}

// ToDense wraps data, n samples of the given per-sample shape in row-major
// order, in a new (n, ...sample) Float32 tensor. The tensor uses data as its
// backing array (no copy).
func ToDense(data []float32, n int, sample nn.Shape) (*tensor.Dense, error) {
	if n <= 0 {
		return nil, fmt.Errorf("gorgonia: batch size must be positive, got %d", n)
	}
	if want := n * sample.Size(); len(data) != want {
		return nil, fmt.Errorf("gorgonia: %d values for %d samples of shape %v: want %d", len(data), n, sample, want)
	}
	shape := append([]int{n}, sample...)
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data)), nil
}

// contiguous returns x's values as a row-major slice of exactly size
// elements when they can be read in place: the tensor is not a
// non-contiguous view, not a lazily transposed tensor and not column-major.
func contiguous[T float32 | float64](x *tensor.Dense, size int) ([]T, bool) {
	if x.RequiresIterator() || x.DataOrder().IsColMajor() {
		return nil, false
	}
	s, ok := x.Data().([]T)
	if !ok || len(s) != size {
		return nil, false
	}
	return s, true
}

// gather reads x element by element in row-major order of its logical shape,
// which is right for every layout (views, transposes, column-major) because
// At resolves coordinates through the tensor's own strides.
func gather(dst []float32, x *tensor.Dense) error {
	shape := x.Shape()
	coord := make([]int, len(shape))
	for i := range dst {
		v, err := x.At(coord...)
		if err != nil {
			return err
		}
		switch v := v.(type) {
		case float32:
			dst[i] = v
		case float64:
			dst[i] = float32(v)
		default:
			return fmt.Errorf("element %v has type %T, want float32 or float64", coord, v)
		}
		for d := len(coord) - 1; d >= 0; d-- {
			coord[d]++
			if coord[d] < shape[d] {
				break
			}
			coord[d] = 0
		}
	}
	return nil
}

// fmtShape prints a tensor shape the way Python does: (2, 60, 3).
func fmtShape(s []int) string {
	out := "("
	for i, d := range s {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprint(d)
	}
	if len(s) == 1 {
		out += ","
	}
	return out + ")"
}

// fmtBatchShape prints a per-sample shape with a leading N: (N, 60, 3).
func fmtBatchShape(s nn.Shape) string {
	out := "(N"
	for _, d := range s {
		out += fmt.Sprintf(", %d", d)
	}
	return out + ")"
}
