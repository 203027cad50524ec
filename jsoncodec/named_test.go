package jsoncodec

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestNamedTensors(t *testing.T) {
	ins := []Named{{Name: "a", Shape: []int{2, 1}}, {Name: "b", Shape: []int{3}}}
	b := Bounds{MaxCount: 3, MaxAbs: 100}
	for _, tc := range []struct {
		name, body string
		n          int
		a, b       []float32
		path, msg  string // the refusal
	}{
		{"columnar", `{"b": [[1,2,3],[4,5,6]], "a": [[[7],[8]],[[9],[10]]]}`, 2, []float32{7, 8, 9, 10}, []float32{1, 2, 3, 4, 5, 6}, "", ""},
		{"row", `[{"a": [[1],[2]], "b": [3,4,5]}, {"b": [6,7,8], "a": [[9],[10]]}]`, 2, []float32{1, 2, 9, 10}, []float32{3, 4, 5, 6, 7, 8}, "", ""},
		{"row, whitespace", " [ { \"a\" : [ [1] , [2] ] , \"b\" : [3,4,5] } ] ", 1, []float32{1, 2}, []float32{3, 4, 5}, "", ""},
		{"missing", `{"a": [[[1],[2]]]}`, 0, nil, nil, "x", `input "b" is missing`},
		{"unknown", `{"a": [[[1],[2]]], "b": [[1,2,3]], "c": []}`, 0, nil, nil, "x", `"c" is not an input of the model; its inputs are "a" (2, 1), "b" (3)`},
		{"short", `{"a": [[[1]]], "b": [[1,2,3]]}`, 0, nil, nil, "x.a[0]", "1 elements: the model takes 2 here"},
		{"long", `{"a": [[[1],[2]]], "b": [[1,2,3,4]]}`, 0, nil, nil, "x.b[0]", "more than 3 elements"},
		{"too deep", `{"a": [[[1],[[2]]]], "b": [[1,2,3]]}`, 0, nil, nil, "x.a[0][1][0]", "an array: want a number"},
		{"string", `{"a": [[[1],["2"]]], "b": [[1,2,3]]}`, 0, nil, nil, "x.a[0][1][0]", "a string: want a number"},
		{"out of range", `{"a": [[[1],[2]]], "b": [[1,2,300]]}`, 0, nil, nil, "x.b[0][2]", "out of range"},
		{"N differs", `{"a": [[[1],[2]]], "b": [[1,2,3],[1,2,3]]}`, 0, nil, nil, "x.b", `every input needs the same number`},
		{"too many", `{"a": [[[1],[2]],[[1],[2]],[[1],[2]],[[1],[2]]], "b": []}`, 0, nil, nil, "x.a", "more than 3 instances"},
		{"row too many", "[" + strings.Repeat(`{"a": [[1],[2]], "b": [1,2,3]},`, 3) + `{"a": [[1],[2]], "b": [1,2,3]}]`, 0, nil, nil, "x", "more than 3 instances"},
		{"row empty", `[]`, 0, nil, nil, "x", "0 instances"},
		{"row missing", `[{"a": [[1],[2]]}]`, 0, nil, nil, "x[0]", `input "b" is missing`},
		{"row value", `[{"a": [[1],[2]], "b": [1,2,null]}]`, 0, nil, nil, "x[0].b[2]", "null: want a number"},
		{"row not objects", `[[1]]`, 0, nil, nil, "x[0]", "want an object"},
		{"columnar empty", `{"a": [], "b": []}`, 0, nil, nil, "x.a", "0 instances"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !IsNamed([]byte(tc.body)) && tc.name != "row not objects" {
				t.Errorf("IsNamed(%s) = false", tc.body)
			}
			xs, n, err := NamedTensors([]byte(tc.body), "x", ins, b)
			if tc.msg == "" {
				if err != nil || n != tc.n || !slices.Equal(xs[0], tc.a) || !slices.Equal(xs[1], tc.b) {
					t.Fatalf("got %v %d %v, want %v %v %d", xs, n, err, tc.a, tc.b, tc.n)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Path() != tc.path || !strings.Contains(e.Msg, tc.msg) {
				t.Fatalf("error %v (path %q), want %q at %q", err, pathOf(e), tc.msg, tc.path)
			}
		})
	}
}

func pathOf(e *Error) string {
	if e == nil {
		return ""
	}
	return e.Path()
}

func TestList(t *testing.T) {
	b := Bounds{MaxCount: 2, MaxAbs: 10}
	x, n, err := List([]byte(`[[1,2],[3,4]]`), "inputs", []int{2}, b)
	if err != nil || n != 2 || !slices.Equal(x, []float32{1, 2, 3, 4}) {
		t.Fatalf("got %v %d %v", x, n, err)
	}
	for _, tc := range []struct{ body, msg string }{
		{`[[1,2]] x`, "unexpected text"},
		{`[[1,2],[3,4],[5,6]]`, "more than 2 instances"},
		{`{"a": 1}`, "want (N, 2) nested lists"},
		{`[[1,2]`, "malformed"},
	} {
		if _, _, err := List([]byte(tc.body), "inputs", []int{2}, b); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want %q", tc.body, err, tc.msg)
		}
	}
	if _, _, err := List([]byte(`[]`), "inputs", []int{1, 1, 1, 1}, b); err == nil {
		t.Error("rank 4 accepted")
	}
}
