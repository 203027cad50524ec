package jsoncodec

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestOIPTensor(t *testing.T) {
	b := Bounds{MaxCount: 4, MaxAbs: 1e12}
	for _, tc := range []struct {
		dt    string
		shape []int
		data  string
		want  []float32
		err   string // Error's path and message
	}{
		{"FP32", []int{2, 2}, `[1, 2, 4, 5]`, []float32{1, 2, 4, 5}, ""},
		{"FP32", []int{2, 2}, `[[1, 2], [4, 5]]`, []float32{1, 2, 4, 5}, ""},
		{"FP64", []int{1, 3}, `[[0.1, -2e3, 0]]`, []float32{0.1, -2000, 0}, ""},
		{"UINT32", []int{2, 2}, `[1, 2, 3, 4]`, []float32{1, 2, 3, 4}, ""},
		{"INT8", []int{3}, `[-128, 127, 0]`, []float32{-128, 127, 0}, ""},
		{"BOOL", []int{3}, `[true, false, true]`, []float32{1, 0, 1}, ""},
		{"BOOL", []int{3}, `[true]`, nil, "d: 1 elements: shape (3) holds 3"},
		{"BOOL", []int{1}, `[1]`, nil, "d[0]: a number: want true or false (BOOL)"},
		{"INT8", []int{1}, `[128]`, nil, "d[0]: 128 is out of the range of INT8"},
		{"UINT8", []int{1}, `[-1]`, nil, "d[0]: -1 is out of the range of UINT8"},
		{"INT32", []int{1}, `[2.5]`, nil, "d[0]: 2.5 is not an integer (INT32)"},
		{"INT64", []int{1}, `[16777217]`, nil, "d[0]: 16777217: the model computes in FP32, which holds integers exactly only up to 2^24 in magnitude"},
		{"FP32", []int{2, 2}, `[1, 2, 4, 5, 6]`, nil, "d[4]: more than 4 elements: shape (2, 2) holds 4"},
		{"FP32", []int{2, 2}, `[[1, 2], [4]]`, nil, "d[1]: 1 elements: the model takes 2 here"},
		{"FP32", []int{2, 2}, `[[1, 2], [4, 5], [6, 7]]`, nil, "d: more than 2 elements: the model takes 2 here"},
		{"FP32", []int{2, 2}, `[[1, 2], 4, 5]`, nil, "d[1]: a number: want an array of 2 (shape (2))"},
		{"FP32", []int{1}, `[1e400]`, nil, "d[0]: number \"1e400\" is out of range: values must be finite with magnitude at most 1e+12"},
		{"FP32", []int{1}, `"AAAA"`, nil, "d: a string: want an array of 1 FP32 values (flat or nested as shape (1))"},
		{"FP32", []int{1, 1, 1, 1, 1, 1}, `[1]`, nil, "d: shape (1, 1, 1, 1, 1, 1): 1 to 5 dimensions are supported"},
	} {
		dt, ok := ParseDatatype(tc.dt)
		if !ok {
			t.Fatalf("%s refused", tc.dt)
		}
		got, err := OIPTensor([]byte(tc.data), "d", dt, tc.shape, b)
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if msg != tc.err || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %v %s: %v, %q; want %v, %q", tc.dt, tc.shape, tc.data, got, msg, tc.want, tc.err)
		}
	}
	for _, s := range []string{"FP16", "BF16", "BYTES", "fp32", ""} {
		if _, ok := ParseDatatype(s); ok {
			t.Errorf("%q accepted", s)
		}
	}
}

// FuzzOIPTensor: OIPTensor takes exactly the data encoding/json reads as
// numbers of the shape (flat, or nested exactly), with the same values.
func FuzzOIPTensor(f *testing.F) {
	for _, d := range []string{`[1,2,3,4]`, `[[1,2],[3,4]]`, `[[1,2],[3]]`, `[1,2,3]`, `[[1,2],[3,4],[5,6]]`, `[[[1]]]`, `[ 1 , 2.5e0 , -0 , 4 ]`, `[1,2,3,4] x`, `[]`} {
		f.Add([]byte(d))
	}
	dt, _ := ParseDatatype("FP64")
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := OIPTensor(data, "d", dt, []int{2, 2}, Bounds{MaxCount: 4, MaxAbs: 1e12})
		var flat []float64
		var nested [][]float64
		var want []float32
		if json.Unmarshal(data, &flat) == nil && len(flat) == 4 {
			for _, v := range flat {
				want = append(want, float32(v))
			}
		} else if json.Unmarshal(data, &nested) == nil && len(nested) == 2 && len(nested[0]) == 2 && len(nested[1]) == 2 {
			for _, r := range nested {
				for _, v := range r {
					want = append(want, float32(v))
				}
			}
		}
		if want == nil {
			if err == nil {
				t.Fatalf("%q: accepted as %v; encoding/json does not read a (2, 2) tensor", data, got)
			}
			return
		}
		if err != nil || !reflect.DeepEqual(got, want) {
			for _, v := range want { // out of range: refused by both
				if v > 1e12 || v < -1e12 {
					return
				}
			}
			t.Fatalf("%q: %v, %v; want %v", data, got, err, want)
		}
	})
}
