package jsoncodec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Named is one model input of a named-tensor request: the input's name and
// its per-sample shape (at most 4 dimensions).
type Named struct {
	Name  string
	Shape []int
}

// maxNamedRank is the deepest per-sample shape NamedTensors and List read
// (the reader's index holds the sample and 4 dimensions: a ConvLSTM2D's
// (subsequences, rows, steps, features)).
const maxNamedRank = 4

// IsNamed reports whether a TensorFlow Serving :predict field holds named
// tensors: "inputs" as an object of name -> (N, ...) lists, or "instances"
// as a list of objects of name -> one sample (or an empty list).
func IsNamed(raw []byte) bool {
	s := scanner{b: raw}
	if s.eat('{') {
		return true
	}
	if !s.eat('[') {
		return false
	}
	c := s.peek()
	return c == '{' || c == ']' // an empty list: NamedTensors says 0 instances
}

// NamedTensors reads TensorFlow Serving's named inputs into one flat
// float32 batch per input, in the order of ins, and returns them with N:
//
//	columnar ("inputs"):   {"prices": [sample, ...], "weather": [sample, ...]}
//	row ("instances"):     [{"prices": sample, "weather": sample}, ...]
//
// Every input must be there once, no other name, each sample of exactly its
// input's shape, 1 to b.MaxCount samples (the same N for every input), every
// value finite with magnitude at most b.MaxAbs. Errors are *Error, whose
// path names the input: "inputs.prices[2][7]", "instances[2].prices[7]".
func NamedTensors(raw []byte, field string, ins []Named, b Bounds) ([][]float32, int, error) {
	for _, in := range ins {
		if len(in.Shape) > maxNamedRank {
			return nil, 0, &Error{Field: field, Msg: fmt.Sprintf("input %q has %d dimensions per sample; named inputs of at most %d are supported", in.Name, len(in.Shape), maxNamedRank)}
		}
	}
	s := scanner{b: raw}
	if s.peek() == '{' {
		return namedColumns(raw, field, ins, b)
	}
	return namedRows(raw, field, ins, b)
}

func namesOf(ins []Named) string {
	out := make([]string, len(ins))
	for j, in := range ins {
		out[j] = fmt.Sprintf("%q %s", in.Name, shapeText(in.Shape))
	}
	return strings.Join(out, ", ")
}

func shapeText(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = fmt.Sprint(d)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// members reads one JSON object's members, checking their names against ins.
func members(raw []byte, field string, ins []Named) (map[string]json.RawMessage, *Error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, &Error{Field: field, Msg: "want an object of input name -> tensor: " + err.Error()}
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !slices.ContainsFunc(ins, func(in Named) bool { return in.Name == k }) {
			return nil, &Error{Field: field, Msg: fmt.Sprintf("%s is not an input of the model; its inputs are %s", Echo(k), namesOf(ins))}
		}
	}
	for _, in := range ins {
		if _, ok := obj[in.Name]; !ok {
			return nil, &Error{Field: field, Msg: fmt.Sprintf("input %q is missing; the model's inputs are %s", in.Name, namesOf(ins))}
		}
	}
	return obj, nil
}

// namedColumns reads {"name": [N samples], ...}.
func namedColumns(raw []byte, field string, ins []Named, b Bounds) ([][]float32, int, error) {
	obj, e := members(raw, field, ins)
	if e != nil {
		return nil, 0, e
	}
	xs := make([][]float32, len(ins))
	n := -1
	for j, in := range ins {
		x, count, err := List(obj[in.Name], field+"."+in.Name, in.Shape, b)
		if err != nil {
			return nil, 0, err
		}
		if n >= 0 && count != n {
			return nil, 0, &Error{Field: field + "." + in.Name, Msg: fmt.Sprintf("%d samples, and %q has %d: every input needs the same number", count, ins[0].Name, n)}
		}
		xs[j], n = x, count
	}
	return xs, n, nil
}

// namedRows reads [{"name": sample, ...}, ...], decoding one object at a time so
// that more than b.MaxCount samples are refused before they are read.
func namedRows(raw []byte, field string, ins []Named, b Bounds) ([][]float32, int, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return nil, 0, &Error{Field: field, Msg: fmt.Sprintf("want a list of objects of input name -> sample (inputs %s)", namesOf(ins))}
	}
	xs := make([][]float32, len(ins))
	n := 0
	for ; dec.More(); n++ {
		if n == b.MaxCount {
			return nil, 0, &Error{Field: field, Msg: fmt.Sprintf("more than %d instances: send 1 to %d", b.MaxCount, b.MaxCount)}
		}
		var one json.RawMessage
		if err := dec.Decode(&one); err != nil {
			return nil, 0, &Error{Field: field, Index: []int{n}, Msg: "malformed instance: " + err.Error()}
		}
		at := fmt.Sprintf("%s[%d]", field, n)
		obj, e := members(one, at, ins)
		if e != nil {
			return nil, 0, e
		}
		for j, in := range ins {
			r := newReader(obj[in.Name], at+"."+in.Name, b)
			x, e := r.tensor(in.Shape, xs[j])
			if e == nil && r.peek() != 0 {
				e = r.fail("unexpected text after the sample")
			}
			if e != nil {
				return nil, 0, e
			}
			xs[j] = x
		}
	}
	if n == 0 {
		return nil, 0, &Error{Field: field, Msg: fmt.Sprintf("0 instances: send 1 to %d", b.MaxCount)}
	}
	return xs, n, nil
}

// List reads 1 to b.MaxCount samples of the given per-sample shape (at most
// 4 dimensions) as nested lists, (N, ...shape), into a flat float32 batch,
// and returns it with N. It fails at the first value past a bound.
func List(raw []byte, field string, shape []int, b Bounds) ([]float32, int, error) {
	if len(shape) > maxNamedRank {
		return nil, 0, &Error{Field: field, Msg: fmt.Sprintf("%d dimensions per sample; at most %d are supported", len(shape), maxNamedRank)}
	}
	r := newReader(raw, field, b)
	if e := r.open(fmt.Sprintf("(N, %s) nested lists of numbers", strings.Trim(shapeText(shape), "()"))); e != nil {
		return nil, 0, e
	}
	if r.empty() {
		return nil, 0, r.fail("0 instances: send 1 to %d", b.MaxCount)
	}
	var x []float32
	for i := 0; ; i++ {
		if i == b.MaxCount {
			return nil, 0, r.fail("more than %d instances: send 1 to %d", b.MaxCount, b.MaxCount)
		}
		r.idx[0], r.depth = i, 1
		var e *Error
		if x, e = r.tensor(shape, x); e != nil {
			return nil, 0, e
		}
		r.depth = 0
		more, e := r.next()
		if e != nil {
			return nil, 0, e
		}
		if !more {
			if r.peek() != 0 {
				return nil, 0, r.fail("unexpected text after the array")
			}
			return x, i + 1, nil
		}
	}
}

// tensor appends one value of the given shape, read at idx[:depth], to dst.
func (r *reader) tensor(shape []int, dst []float32) ([]float32, *Error) {
	return r.nested(shape, Datatype{Name: "FP32"}, dst)
}
