package jsoncodec

import (
	"fmt"
	"math"
	"strings"
)

// Datatype is an Open Inference Protocol tensor element type that the
// server reads into the float32 a model computes in: BOOL (true 1, false
// 0), the integer types (integral values in the type's range, at most 2^24
// in magnitude so that float32 holds them exactly), FP32 and FP64 (rounded
// to float32).
type Datatype struct {
	Name     string
	Bool     bool
	Int      bool
	Min, Max float64 // an integer type's range
}

// Datatypes lists the datatypes ParseDatatype accepts.
const Datatypes = "BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP32, FP64"

// exactFloat32 is the largest magnitude up to which float32 holds every
// integer.
const exactFloat32 = 1 << 24

// ParseDatatype reads an OIP datatype name (case-sensitive, as the protocol
// says); ok is false for FP16, BF16, BYTES and anything else.
func ParseDatatype(s string) (Datatype, bool) {
	d := Datatype{Name: s}
	switch s {
	case "BOOL":
		d.Bool = true
	case "FP32", "FP64":
	case "UINT8":
		d.Int, d.Max = true, math.MaxUint8
	case "UINT16":
		d.Int, d.Max = true, math.MaxUint16
	case "UINT32":
		d.Int, d.Max = true, math.MaxUint32
	case "UINT64":
		d.Int, d.Max = true, math.MaxUint64
	case "INT8":
		d.Int, d.Min, d.Max = true, math.MinInt8, math.MaxInt8
	case "INT16":
		d.Int, d.Min, d.Max = true, math.MinInt16, math.MaxInt16
	case "INT32":
		d.Int, d.Min, d.Max = true, math.MinInt32, math.MaxInt32
	case "INT64":
		d.Int, d.Min, d.Max = true, math.MinInt64, math.MaxInt64
	default:
		return d, false
	}
	return d, true
}

// maxOIPRank is the deepest tensor OIPTensor reads (the batch and 4
// dimensions, a ConvLSTM2D's: the reader's index holds 5).
const maxOIPRank = 5

// OIPTensor reads an Open Inference Protocol tensor's "data": the elements
// of a tensor of the given full shape (batch first) in row-major order,
// either flat ([1, 2, 4, 5]) or nested exactly as the shape says
// ([[1, 2], [4, 5]]). The caller bounds the shape (its product is the most
// elements read; one more is refused before it is read). Errors are *Error
// naming the element's position in the data as written.
func OIPTensor(raw []byte, field string, dt Datatype, shape []int, b Bounds) ([]float32, error) {
	if len(shape) == 0 || len(shape) > maxOIPRank {
		return nil, &Error{Field: field, Msg: fmt.Sprintf("shape %s: 1 to %d dimensions are supported", shapeText(shape), maxOIPRank)}
	}
	total := 1
	for _, d := range shape {
		total *= d
	}
	r := newReader(raw, field, b)
	ahead := r.scanner
	if !ahead.eat('[') {
		return nil, r.fail("%s: want an array of %d %s values (flat or nested as shape %s)", r.what(), total, dt.Name, shapeText(shape))
	}
	var x []float32
	var e *Error
	if ahead.peek() == '[' && len(shape) > 1 {
		x, e = r.nested(shape, dt, make([]float32, 0, total))
	} else {
		x, e = r.oipFlat(total, shape, dt)
	}
	if e != nil {
		return nil, e
	}
	if r.peek() != 0 {
		return nil, r.fail("unexpected text after the array")
	}
	return x, nil
}

// oipFlat reads a flat array of exactly total elements.
func (r *reader) oipFlat(total int, shape []int, dt Datatype) ([]float32, *Error) {
	r.i++ // '['
	x := make([]float32, 0, total)
	r.depth = 1
	if !r.empty() {
		for {
			r.idx[0] = len(x)
			if len(x) == total {
				return nil, r.fail("more than %d elements: shape %s holds %d", total, shapeText(shape), total)
			}
			v, e := r.elem(dt)
			if e != nil {
				return nil, e
			}
			x = append(x, v)
			more, e := r.next()
			if e != nil {
				return nil, e
			}
			if !more {
				break
			}
		}
	}
	r.depth = 0
	if len(x) != total {
		return nil, r.fail("%d elements: shape %s holds %d", len(x), shapeText(shape), total)
	}
	return x, nil
}

// nested appends one array nested as shape, of elements of datatype dt,
// read at idx[:depth], to dst.
func (r *reader) nested(shape []int, dt Datatype, dst []float32) ([]float32, *Error) {
	if len(shape) == 0 {
		v, e := r.elem(dt)
		if e != nil {
			return nil, e
		}
		return append(dst, v), nil
	}
	d := r.depth
	if e := r.open(fmt.Sprintf("an array of %d (shape %s)", shape[0], shapeText(shape))); e != nil {
		return nil, e
	}
	k := 0
	if !r.empty() {
		for {
			if k == shape[0] {
				return nil, r.fail("more than %d elements: the model takes %d here", shape[0], shape[0])
			}
			r.idx[d], r.depth = k, d+1
			var e *Error
			if dst, e = r.nested(shape[1:], dt, dst); e != nil {
				return nil, e
			}
			r.depth = d
			k++
			more, e := r.next()
			if e != nil {
				return nil, e
			}
			if !more {
				break
			}
		}
	}
	if k != shape[0] {
		return nil, r.fail("%d elements: the model takes %d here", k, shape[0])
	}
	return dst, nil
}

// elem reads one element of datatype dt at idx[:depth].
func (r *reader) elem(dt Datatype) (float32, *Error) {
	if dt.Bool {
		c := r.peek()
		switch {
		case c == 't' && strings.HasPrefix(string(r.b[r.i:min(len(r.b), r.i+4)]), "true"):
			r.i += 4
			return 1, nil
		case c == 'f' && strings.HasPrefix(string(r.b[r.i:min(len(r.b), r.i+5)]), "false"):
			r.i += 5
			return 0, nil
		}
		return 0, r.fail("%s: want true or false (BOOL)", r.what())
	}
	start := r.i
	v, e := r.value()
	if e != nil {
		return 0, e
	}
	if dt.Int {
		text := strings.TrimSpace(string(r.b[start:r.i]))
		if len(text) > MaxEcho {
			text = text[:MaxEcho] + "..."
		}
		switch {
		case v != math.Trunc(v):
			return 0, r.fail("%s is not an integer (%s)", text, dt.Name)
		case v < dt.Min || v > dt.Max:
			return 0, r.fail("%s is out of the range of %s", text, dt.Name)
		case math.Abs(v) > exactFloat32:
			return 0, r.fail("%s: the model computes in FP32, which holds integers exactly only up to 2^24 in magnitude", text)
		}
	}
	return float32(v), nil
}
