package skpickle

import (
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// sklearnClasses are the scikit-learn scalers a pickle may hold.
var sklearnClasses = [...]string{"MinMaxScaler", "StandardScaler", "RobustScaler", "MaxAbsScaler"}

// SupportedClasses lists the scikit-learn classes Load accepts.
func SupportedClasses() []string { return append([]string(nil), sklearnClasses[:]...) }

// findClass resolves a global against the allow-list: the names that
// scikit-learn scaler pickles written by pickle.dump (protocols 2 to 5) and
// joblib.dump use, with numpy 1.x (numpy.core) and 2.x (numpy._core) names.
// Anything else is an *UnsafeError naming it.
func findClass(module, name string) (*global, error) {
	g := &global{module: module, name: name}
	switch module {
	case "sklearn.preprocessing._data", "sklearn.preprocessing.data": // .data before sklearn 0.22
		for _, c := range sklearnClasses {
			if name == c {
				g.kind = gEstimator
				return g, nil
			}
		}
	case "numpy.core.multiarray", "numpy._core.multiarray":
		switch name {
		case "_reconstruct":
			g.kind = gReconstruct
			return g, nil
		case "scalar":
			g.kind = gScalar
			return g, nil
		}
	case "numpy.core.numeric", "numpy._core.numeric":
		if name == "_frombuffer" {
			g.kind = gFrombuffer
			return g, nil
		}
	case "numpy":
		switch name {
		case "ndarray":
			g.kind = gNdarray
			return g, nil
		case "dtype":
			g.kind = gDtype
			return g, nil
		}
	case "_codecs":
		if name == "encode" {
			g.kind = gCodecsEncode
			return g, nil
		}
	case "joblib.numpy_pickle", "sklearn.externals.joblib.numpy_pickle":
		if name == "NumpyArrayWrapper" {
			g.kind = gArrayWrapper
			return g, nil
		}
	}
	return nil, &UnsafeError{Module: module, Name: name}
}

func isGlobal(v any, k globalKind) bool {
	g, ok := v.(*global)
	return ok && g.kind == k
}

// call is REDUCE (and INST/OBJ): fn(*args) for the allow-listed callables.
func (m *vm) call(at int, fn any, args []any) (any, error) {
	g, ok := fn.(*global)
	if !ok {
		return nil, formatErr(at, "%s is not callable", typeName(fn))
	}
	nargs := func(lo, hi int) error {
		if len(args) < lo || len(args) > hi {
			return formatErr(at, "%s takes %d to %d arguments, got %d", g.qualname(), lo, hi, len(args))
		}
		return nil
	}
	switch g.kind {
	case gEstimator:
		if err := nargs(0, 0); err != nil {
			return nil, err
		}
		return &estimator{class: g}, nil
	case gArrayWrapper:
		if err := nargs(0, 0); err != nil {
			return nil, err
		}
		return &wrapperStub{}, nil
	case gReconstruct: // _reconstruct(ndarray, (0,), b'b'): BUILD gives the array
		if err := nargs(1, 3); err != nil {
			return nil, err
		}
		if !isGlobal(args[0], gNdarray) {
			return nil, formatErr(at, "numpy array subclass %s is not supported", typeName(args[0]))
		}
		return &arrayStub{}, nil
	case gDtype: // numpy.dtype(descr, align, copy)
		if err := nargs(1, 3); err != nil {
			return nil, err
		}
		s, ok := args[0].(string)
		if !ok {
			return nil, formatErr(at, "numpy.dtype: descriptor is %s, not a string", typeName(args[0]))
		}
		return parseDescr(at, s)
	case gScalar: // scalar(dtype, data)
		if err := nargs(2, 2); err != nil {
			return nil, err
		}
		dt, ok := args[0].(*dtype)
		if !ok {
			return nil, formatErr(at, "numpy scalar: dtype is %s", typeName(args[0]))
		}
		if dt.kind == 'O' {
			return nil, formatErr(at, "numpy scalar of object dtype is not supported")
		}
		return fromBytes(at, args[1], dt, nil, false, "numpy scalar")
	case gFrombuffer: // _frombuffer(buf, dtype, shape, order): protocol 5 in-band arrays
		if err := nargs(4, 4); err != nil {
			return nil, err
		}
		dt, ok := args[1].(*dtype)
		if !ok {
			return nil, formatErr(at, "numpy _frombuffer: dtype is %s", typeName(args[1]))
		}
		switch args[0].(type) {
		case pyBytes, pyByteArray:
		default:
			return nil, formatErr(at, "numpy _frombuffer: buffer is %s", typeName(args[0]))
		}
		if dt.kind == 'O' {
			return nil, formatErr(at, "numpy._frombuffer: object array given as raw bytes")
		}
		shape, err := shapeOf(at, args[2])
		if err != nil {
			return nil, err
		}
		return fromBytes(at, args[0], dt, shape, args[3] == "F", "numpy._frombuffer")
	case gCodecsEncode: // how protocol 2 writes bytes: _codecs.encode(text, 'latin1')
		if err := nargs(1, 3); err != nil {
			return nil, err
		}
		s, ok := args[0].(string)
		enc, errs := any("utf-8"), any("strict")
		if len(args) > 1 {
			enc = args[1]
		}
		if len(args) > 2 {
			errs = args[2]
		}
		if !ok || (enc != "latin1" && enc != "latin-1") || errs != "strict" {
			return nil, formatErr(at, "_codecs.encode(%s, %v) is not a bytes literal", typeName(args[0]), enc)
		}
		b := make([]byte, 0, len(s))
		for _, r := range s {
			if r > 0xff {
				return nil, formatErr(at, "_codecs.encode: character U+%04X is not latin-1", r)
			}
			b = append(b, byte(r))
		}
		return pyBytes(b), nil
	}
	return nil, formatErr(at, "%s is not callable", g.qualname())
}

// newObj is NEWOBJ/NEWOBJ_EX: cls.__new__(cls, *args) for the estimator
// and joblib wrapper classes, which take no arguments.
func newObj(at int, cls, args, kwargs any) (any, error) {
	a, ok := argList(args)
	if !ok || len(a) != 0 {
		return nil, formatErr(at, "NEWOBJ with arguments on %s is not supported", typeName(cls))
	}
	if kwargs != nil {
		if d, ok := kwargs.(*pyDict); !ok || len(d.keys) != 0 {
			return nil, formatErr(at, "NEWOBJ_EX with keyword arguments is not supported")
		}
	}
	switch {
	case isGlobal(cls, gEstimator):
		return &estimator{class: cls.(*global)}, nil
	case isGlobal(cls, gArrayWrapper):
		return &wrapperStub{}, nil
	}
	return nil, formatErr(at, "NEWOBJ on %s is not supported", typeName(cls))
}

// parseDescr is numpy.dtype(descr) for the descriptors numpy pickles write
// (kind letter and item size, for example "f8", "i4", "b1", "O8").
func parseDescr(at int, s string) (*dtype, error) {
	d := &dtype{}
	body := s
	if body != "" && strings.ContainsRune("<>|=", rune(body[0])) {
		d.bigEndian = body[0] == '>'
		body = body[1:]
	}
	if body == "O" || body == "O8" || body == "O4" {
		d.kind, d.size = 'O', 8
		return d, nil
	}
	if len(body) >= 2 {
		size, err := strconv.Atoi(body[1:])
		ok := err == nil
		switch body[0] {
		case 'f':
			ok = ok && (size == 2 || size == 4 || size == 8)
		case 'i', 'u':
			ok = ok && (size == 1 || size == 2 || size == 4 || size == 8)
		case 'b':
			ok = ok && size == 1
		default:
			ok = false
		}
		if ok {
			d.kind, d.size = body[0], size
			return d, nil
		}
	}
	return nil, formatErr(at, "numpy dtype %q is not supported (float16/32/64, int, uint, bool or object only)", s)
}

// shapeOf reads an array shape: a tuple (or list) of non-negative ints whose
// product fits in int64.
func shapeOf(at int, v any) ([]int64, error) {
	items, ok := argList(v)
	if !ok {
		return nil, formatErr(at, "array shape is %s, not a tuple", typeName(v))
	}
	if len(items) > 64 {
		return nil, formatErr(at, "array with %d dimensions (numpy allows at most 64)", len(items))
	}
	shape := make([]int64, len(items))
	n := int64(1)
	for i, it := range items {
		d, ok := pyInt(it)
		if !ok {
			return nil, formatErr(at, "array shape holds %s", typeName(it))
		}
		if d < 0 {
			return nil, formatErr(at, "array shape has a negative dimension %d", d)
		}
		if d != 0 && n > math.MaxInt64/d {
			return nil, &LimitError{What: "array element count", Limit: math.MaxInt64, Claimed: -1}
		}
		n *= d
		shape[i] = d
	}
	return shape, nil
}

// pyInt is a Python int (or bool) that fits in int64.
func pyInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func countOf(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}

// fromBytes builds a numeric array from raw bytes (a str holds latin-1
// text, as Python 2-era pickles store it), checking the size first.
func fromBytes(at int, data any, dt *dtype, shape []int64, fortran bool, where string) (*ndarray, error) {
	var raw []byte
	switch b := data.(type) {
	case pyBytes:
		raw = b
	case pyByteArray:
		raw = b
	case string:
		for _, r := range b {
			if r > 0xff {
				return nil, formatErr(at, "%s: data is text beyond latin-1", where)
			}
			raw = append(raw, byte(r))
		}
	default:
		return nil, formatErr(at, "%s: data is %s, not bytes", where, typeName(data))
	}
	n := countOf(shape)
	if n > int64(len(raw))/int64(dt.size) || int64(len(raw)) != n*int64(dt.size) {
		return nil, formatErr(at, "%s: %d bytes for %d values of %s", where, len(raw), n, dt)
	}
	return &ndarray{dt: dt, shape: shape, fortran: fortran, raw: raw}, nil
}

// build is BUILD: only the stand-ins accept state.
func (m *vm) build(at int) error {
	state, err := m.pop(at)
	if err != nil {
		return err
	}
	inst, err := m.top(at)
	if err != nil {
		return err
	}
	var result any
	switch x := inst.(type) {
	case *estimator:
		d, ok := state.(*pyDict)
		if !ok {
			return formatErr(at, "%s: state is %s, not a dict", x.class.name, typeName(state))
		}
		x.state = d
		return nil
	case *dtype:
		return x.setState(at, state)
	case *arrayStub:
		if result, err = arrayFromState(at, state); err != nil {
			return err
		}
	case *wrapperStub:
		d, ok := state.(*pyDict)
		if !ok {
			return formatErr(at, "joblib NumpyArrayWrapper: state is %s, not a dict", typeName(state))
		}
		if result, err = m.readWrapped(at, d); err != nil {
			return err
		}
	default:
		return &UnsafeError{What: "BUILD on " + typeName(inst)}
	}
	// The stub was memoized before BUILD; later references see the array.
	m.stack[len(m.stack)-1] = result
	for _, k := range m.stubKeys[inst] {
		if m.memo[k] == inst {
			m.memo[k] = result
		}
	}
	delete(m.stubKeys, inst)
	return nil
}

// setState is numpy.dtype's BUILD: (version, byteorder, subdescr, names,
// fields, elsize, alignment, flags[, metadata]).
func (d *dtype) setState(at int, state any) error {
	t, ok := state.(pyTuple)
	if !ok || len(t) < 5 {
		return formatErr(at, "numpy.dtype: unexpected state")
	}
	if t[2] != nil || t[3] != nil || t[4] != nil {
		return formatErr(at, "numpy.dtype: structured dtypes are not supported")
	}
	switch t[1] {
	case "<":
		d.bigEndian = false
	case ">":
		d.bigEndian = true
	}
	return nil
}

// arrayFromState is ndarray's BUILD: (version, shape, dtype, fortran, data).
func arrayFromState(at int, state any) (*ndarray, error) {
	t, ok := state.(pyTuple)
	if !ok || len(t) != 5 {
		return nil, formatErr(at, "numpy.ndarray: unexpected state")
	}
	shape, err := shapeOf(at, t[1])
	if err != nil {
		return nil, err
	}
	dt, ok := t[2].(*dtype)
	if !ok {
		return nil, formatErr(at, "numpy.ndarray: dtype is %s, not a numpy.dtype", typeName(t[2]))
	}
	fortran, ok := truthy(t[3])
	if !ok {
		return nil, formatErr(at, "numpy.ndarray: fortran flag is %s", typeName(t[3]))
	}
	if dt.kind != 'O' {
		return fromBytes(at, t[4], dt, shape, fortran, "numpy.ndarray")
	}
	l, ok := t[4].(*pyList)
	if !ok {
		return nil, formatErr(at, "numpy.ndarray: object array data is %s, not a list", typeName(t[4]))
	}
	for _, v := range l.items {
		switch v.(type) {
		case nil, string, pyBytes, int64, *big.Int, float64, bool:
		default:
			return nil, formatErr(at, "numpy.ndarray: object array holds %s", typeName(v))
		}
	}
	if int64(len(l.items)) != countOf(shape) {
		return nil, formatErr(at, "numpy.ndarray: %d objects for shape of %d", len(l.items), countOf(shape))
	}
	return &ndarray{dt: dt, shape: shape, fortran: fortran, objs: l.items}, nil
}

// readWrapped reads the array joblib's NumpyArrayWrapper stands for: its
// bytes follow the wrapper in the stream (after an alignment pad), or, for
// object arrays, a nested pickle does.
func (m *vm) readWrapped(at int, st *pyDict) (*ndarray, error) {
	if sub, _ := st.get("subclass"); !isGlobal(sub, gNdarray) {
		return nil, formatErr(at, "joblib array subclass %s is not supported", typeName(sub))
	}
	dv, _ := st.get("dtype")
	dt, ok := dv.(*dtype)
	if !ok {
		return nil, formatErr(at, "joblib array: dtype is %s, not a numpy.dtype", typeName(dv))
	}
	var shape []int64
	if sv, ok := st.get("shape"); ok {
		var err error
		if shape, err = shapeOf(at, sv); err != nil {
			return nil, err
		}
	}
	order := any("C")
	if o, ok := st.get("order"); ok {
		order = o
	}
	if dt.kind == 'O' {
		// Python reads the nested pickle from the raw file: it cannot start
		// inside a frame of the outer one.
		if m.frameEnd >= 0 && m.pos != m.frameEnd {
			return nil, formatErr(at, "joblib object array inside a pickle frame")
		}
		m.frameEnd = -1
		if m.nest >= maxNestedPickles {
			return nil, &LimitError{What: "nested joblib pickles", Limit: maxNestedPickles, Claimed: int64(m.nest + 1)}
		}
		sub := newVM(m.data, m.pos, m.budget, m.limit, m.nest+1)
		v, err := sub.run()
		if err != nil {
			return nil, err
		}
		// A frame of the nested pickle was read whole from the file: the
		// outer one resumes after it, wherever the nested STOP was.
		m.pos = max(sub.pos, sub.frameEnd)
		a, ok := v.(*ndarray)
		if !ok || !slices.Equal(a.shape, shape) {
			return nil, formatErr(at, "joblib object array: nested pickle is not an array of the wrapper's shape")
		}
		return a, nil
	}
	if pad, ok := st.get("numpy_array_alignment_bytes"); ok && pad != nil {
		n, err := m.u8()
		if err != nil {
			return nil, formatErr(m.pos, "joblib array: stream ends before the alignment byte")
		}
		if _, err := m.read(n); err != nil {
			return nil, err
		}
	}
	n := countOf(shape)
	if n > int64(m.remaining())/int64(dt.size) {
		return nil, formatErr(m.pos, "joblib array: want %d values of %s, stream has %d bytes", n, dt, m.remaining())
	}
	data, err := m.read(uint64(n) * uint64(dt.size))
	if err != nil {
		return nil, err
	}
	return fromBytes(at, pyBytes(data), dt, shape, order == "F", "joblib array")
}
