package skpickle

import (
	"encoding/binary"
	"math"
	"math/big"
	"strconv"
)

// The values the VM builds. Python's None is nil, bool is bool, int is
// int64 or *big.Int, float is float64 and str is string; the rest are the
// types below. Nothing here has behaviour a file could trigger: every
// callable global resolves to a *global whose kind selects one of a few
// fixed Go functions.

type pyBytes []byte     // bytes
type pyByteArray []byte // bytearray
type pyTuple []any

type pyList struct{ items []any }

// pyDict keeps insertion order; keys are hashable scalars (str, int, float,
// bool, None, bytes).
type pyDict struct {
	keys  []any
	vals  []any
	index map[any]int
}

func newDict() *pyDict { return &pyDict{index: map[any]int{}} }

// pySet is a set or frozenset; only its membership is kept.
type pySet struct{ index map[any]struct{} }

type bytesKey string // a bytes object as a map key, distinct from str

// hashKey returns the Go map key for a Python dict/set key.
func hashKey(k any) (any, bool) {
	switch v := k.(type) {
	case nil, string:
		return v, true
	case bool: // True == 1 == 1.0 as a key
		if v {
			return float64(1), true
		}
		return float64(0), true
	case int64:
		// Python: 1 == 1.0 == True hash alike; keep ints and integral
		// floats apart only where Python does not.
		return float64(v), true
	case float64:
		return v, true
	case pyBytes:
		return bytesKey(v), true
	case *big.Int:
		return "\x00bigint:" + v.String(), true
	}
	return nil, false
}

func (d *pyDict) set(k, v any) bool {
	hk, ok := hashKey(k)
	if !ok {
		return false
	}
	if i, ok := d.index[hk]; ok {
		d.vals[i] = v
		return true
	}
	d.index[hk] = len(d.keys)
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
	return true
}

// get looks up a str key.
func (d *pyDict) get(key string) (any, bool) {
	i, ok := d.index[key]
	if !ok {
		return nil, false
	}
	return d.vals[i], true
}

// globalKind selects what an allow-listed global stands for.
type globalKind int

const (
	gEstimator    globalKind = iota // a scikit-learn scaler class
	gReconstruct                    // numpy.core.multiarray._reconstruct
	gScalar                         // numpy.core.multiarray.scalar
	gFrombuffer                     // numpy.core.numeric._frombuffer
	gNdarray                        // numpy.ndarray (a marker, never called)
	gDtype                          // numpy.dtype
	gCodecsEncode                   // _codecs.encode (protocol 2 bytes literal)
	gArrayWrapper                   // joblib.numpy_pickle.NumpyArrayWrapper
)

type global struct {
	module, name string
	kind         globalKind
}

func (g *global) qualname() string { return g.module + "." + g.name }

// estimator is an allowed scikit-learn class's instance: its state only.
type estimator struct {
	class *global
	state *pyDict // nil until BUILD
}

// dtype is a numpy dtype of kind f, i, u, b or O.
type dtype struct {
	kind      byte // 'f', 'i', 'u', 'b', 'O'
	size      int
	bigEndian bool
}

func (d *dtype) String() string {
	if d.kind == 'O' {
		return "object"
	}
	return string(d.kind) + strconv.Itoa(d.size)
}

// ndarray is a numpy array or scalar (shape nil) rebuilt from raw bytes
// (numeric) or a list (object dtype).
type ndarray struct {
	dt      *dtype
	shape   []int64
	fortran bool
	raw     []byte // numeric data, len = size * dt.size
	objs    []any  // object data, len = size
}

// arrayStub is what _reconstruct returns before BUILD gives it its state.
type arrayStub struct{}

// wrapperStub is joblib's NumpyArrayWrapper before BUILD.
type wrapperStub struct{}

// typeName is the Python type name of v, for error messages (never the
// value itself: a hostile value may be deeply nested).
func typeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case pyBytes:
		return "bytes"
	case pyByteArray:
		return "bytearray"
	case pyTuple:
		return "tuple"
	case *pyList:
		return "list"
	case *pyDict:
		return "dict"
	case *pySet:
		return "set"
	case *global:
		return x.qualname()
	case *estimator:
		return x.class.name
	case *dtype:
		return "numpy.dtype"
	case *ndarray:
		return "numpy.ndarray"
	case *arrayStub:
		return "numpy.ndarray (unbuilt)"
	case *wrapperStub:
		return "NumpyArrayWrapper (unbuilt)"
	}
	return "?"
}

// truthy is Python's bool(v) for the values a scaler's flags hold.
func truthy(v any) (bool, bool) {
	switch x := v.(type) {
	case nil:
		return false, true
	case bool:
		return x, true
	case int64:
		return x != 0, true
	case *big.Int:
		return x.Sign() != 0, true
	case float64:
		return x != 0, true
	case string:
		return x != "", true
	case pyBytes:
		return len(x) != 0, true
	case pyTuple:
		return len(x) != 0, true
	case *pyList:
		return len(x.items) != 0, true
	case *pyDict:
		return len(x.keys) != 0, true
	case *ndarray:
		if x.dt.kind != 'O' && x.count() == 1 {
			f := x.floatAt(0)
			return f != 0, true
		}
	}
	return false, false
}

func (a *ndarray) count() int64 {
	n := int64(1)
	for _, d := range a.shape {
		n *= d
	}
	return n
}

// floatAt converts storage element i to float64 as astype(float64) does.
func (a *ndarray) floatAt(i int) float64 {
	b := a.raw[i*a.dt.size : (i+1)*a.dt.size]
	var order binary.ByteOrder = binary.LittleEndian
	if a.dt.bigEndian {
		order = binary.BigEndian
	}
	switch a.dt.kind {
	case 'b':
		if b[0] != 0 {
			return 1
		}
		return 0
	case 'f':
		switch a.dt.size {
		case 2:
			return halfToFloat(order.Uint16(b))
		case 4:
			return float64(math.Float32frombits(order.Uint32(b)))
		default:
			return math.Float64frombits(order.Uint64(b))
		}
	case 'i':
		switch a.dt.size {
		case 1:
			return float64(int8(b[0]))
		case 2:
			return float64(int16(order.Uint16(b)))
		case 4:
			return float64(int32(order.Uint32(b)))
		default:
			return float64(int64(order.Uint64(b)))
		}
	default: // 'u'
		switch a.dt.size {
		case 1:
			return float64(b[0])
		case 2:
			return float64(order.Uint16(b))
		case 4:
			return float64(order.Uint32(b))
		default:
			return float64(order.Uint64(b))
		}
	}
}

// intAt is int(element i) for an integer or bool array (ok false for
// floats: callers then truncate floatAt themselves).
func (a *ndarray) intAt(i int) (int64, bool) {
	if a.dt.kind == 'u' && a.dt.size == 8 {
		b := a.raw[i*8 : i*8+8]
		var u uint64
		if a.dt.bigEndian {
			u = binary.BigEndian.Uint64(b)
		} else {
			u = binary.LittleEndian.Uint64(b)
		}
		if u > math.MaxInt64 {
			return 0, false
		}
		return int64(u), true
	}
	if a.dt.kind == 'i' && a.dt.size == 8 {
		b := a.raw[i*8 : i*8+8]
		if a.dt.bigEndian {
			return int64(binary.BigEndian.Uint64(b)), true
		}
		return int64(binary.LittleEndian.Uint64(b)), true
	}
	if a.dt.kind == 'i' || a.dt.kind == 'u' || a.dt.kind == 'b' {
		return int64(a.floatAt(i)), true // exact below 2**53
	}
	return 0, false
}

// cOrder returns the storage index of each element in C order: for a
// Fortran-ordered array, numpy's reshape(-1) walks the first axis fastest
// in storage.
func (a *ndarray) cOrder() []int {
	n := int(a.count())
	idx := make([]int, n)
	if !a.fortran || len(a.shape) < 2 {
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	nd := len(a.shape)
	coord := make([]int64, nd)
	for c := range idx {
		// storage offset: sum coord[k] * prod(shape[:k])
		off, stride := int64(0), int64(1)
		for k := 0; k < nd; k++ {
			off += coord[k] * stride
			stride *= a.shape[k]
		}
		idx[c] = int(off)
		for k := nd - 1; k >= 0; k-- { // advance the C-order counter
			coord[k]++
			if coord[k] < a.shape[k] {
				break
			}
			coord[k] = 0
		}
	}
	return idx
}

// halfToFloat converts an IEEE 754 binary16 value exactly.
func halfToFloat(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1024+frac, exp-25)
}
