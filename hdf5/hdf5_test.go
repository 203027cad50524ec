package hdf5_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/hdf5"
)

// The files under testdata/ are written by testdata/gen.py (h5py); see its
// docstring for what each holds.

func open(t testing.TB, name string) *hdf5.File {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := hdf5.Open(bytesReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return f
}

type bytesReader []byte

func (b bytesReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(b)) {
		return 0, fmt.Errorf("offset %d out of range", off)
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, fmt.Errorf("short read at %d", off)
	}
	return n, nil
}

func TestDatasets(t *testing.T) {
	root := open(t, "types.h5").Root()
	f32 := func(name string) []float32 {
		d, err := root.Dataset(name)
		if err != nil {
			t.Fatal(err)
		}
		v, err := d.ReadFloat32()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name  string
		dtype string
		shape []int
		want  any
	}{
		{"f4", "<f4", []int{2, 3}, []float64{0, .25, .5, .75, 1, 1.25}},
		{"f8be", ">f8", []int{3}, []float64{1.5, -2.25, 1e300}},
		{"i8", "<i8", []int{}, []int64{-120}},
		{"i4be", ">i4", []int{3}, []int64{1, -2, 3}},
		{"u1", "<u1", []int{3}, []int64{0, 7, 255}},
		{"i2", "<i2", []int{2}, []int64{-300, 300}},
		{"empty", "<f4", []int{0}, []float64{}},
		{"empty2d", "<f4", []int{0, 4}, []float64{}},
		{"compact", "<f4", []int{4}, []float64{1, 2, 3, 4}},
		{"a/b/c/deep", "<f4", []int{1}, []float64{42}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := root.Dataset(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if d.DType.String() != tc.dtype || !reflect.DeepEqual(d.Shape(), tc.shape) {
				t.Fatalf("dtype %s shape %v, want %s %v", d.DType, d.Shape(), tc.dtype, tc.shape)
			}
			var got any
			switch tc.want.(type) {
			case []float64:
				got, err = d.ReadFloat64()
			case []int64:
				got, err = d.ReadInt64()
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	if got := f32("f4"); !reflect.DeepEqual(got, []float32{0, .25, .5, .75, 1, 1.25}) {
		t.Fatalf("ReadFloat32: %v", got)
	}
	d, _ := root.Dataset("f8be")
	var te *hdf5.TypeError
	if _, err := d.ReadFloat32(); !errors.As(err, &te) {
		t.Fatalf("float64 read as float32: %v", err)
	}
	if _, err := root.Dataset("a/b"); !errors.As(err, &te) {
		t.Fatalf("group opened as dataset: %v", err)
	}
	var nf *hdf5.NotFoundError
	if _, err := root.Dataset("a/nope"); !errors.As(err, &nf) || nf.Name != "nope" {
		t.Fatalf("missing member: %v", err)
	}
}

func TestAttributes(t *testing.T) {
	root := open(t, "types.h5").Root()
	strs := func(name string) []string {
		a, err := root.Attr(name)
		if err != nil {
			t.Fatal(err)
		}
		s, err := a.Strings()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := strs("vlen_scalar"); !reflect.DeepEqual(got, []string{"héllo"}) {
		t.Errorf("vlen_scalar %q", got)
	}
	if got := strs("vlen_array"); !reflect.DeepEqual(got, []string{"x", "yy", ""}) {
		t.Errorf("vlen_array %q", got)
	}
	if got := strs("fixed_array"); !reflect.DeepEqual(got, []string{"conv1d", "lstm_cell_12"}) {
		t.Errorf("fixed_array %q", got)
	}
	a, _ := root.Attr("fixed_scalar")
	if s, err := a.String(); s != "tensorflow" || err != nil {
		t.Errorf("fixed_scalar %q %v", s, err)
	}
	a, _ = root.Attr("empty_f8")
	if v, err := a.Float64s(); len(v) != 0 || err != nil || a.IsString() || !reflect.DeepEqual(a.Shape, []int{0}) {
		t.Errorf("empty_f8 %v %v %v", v, err, a.Shape)
	}
	a, _ = root.Attr("ints")
	if v, err := a.Int64s(); !reflect.DeepEqual(v, []int64{3, -4}) || err != nil {
		t.Errorf("ints %v %v", v, err)
	}
	a, _ = root.Attr("float")
	if v, err := a.Float64s(); !reflect.DeepEqual(v, []float64{0.5}) || err != nil || a.Shape != nil {
		t.Errorf("float %v %v", v, err)
	}
	var te *hdf5.TypeError
	if _, err := a.Strings(); !errors.As(err, &te) {
		t.Errorf("number read as strings: %v", err)
	}
	// 40 attributes added after creation live in continuation blocks.
	g, err := root.Group("a")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(g.Attrs()); n != 40 {
		t.Fatalf("group a has %d attributes, want 40", n)
	}
	a, err = g.Attr("attr_39")
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := a.String(); s != strings.Repeat("value 39 ", 20) {
		t.Errorf("attr_39 = %q", s)
	}
	var nf *hdf5.NotFoundError
	if _, err := g.Attr("nope"); !errors.As(err, &nf) {
		t.Errorf("missing attribute: %v", err)
	}
}

func TestBigGroup(t *testing.T) {
	g, err := open(t, "big_group.h5").Root().Group("many")
	if err != nil {
		t.Fatal(err)
	}
	names := g.Children()
	if len(names) != 600 {
		t.Fatalf("%d members, want 600", len(names))
	}
	for i, n := range names {
		if n != fmt.Sprintf("d%03d", i) {
			t.Fatalf("member %d is %q", i, n)
		}
	}
	d, err := g.Dataset("d599")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := d.ReadFloat32(); len(v) != 1 || v[0] != 599 {
		t.Fatalf("d599 = %v", v)
	}
	n := 0
	if err := open(t, "big_group.h5").Root().Walk(func(string, hdf5.Kind) error { n++; return nil }); err != nil || n != 601 {
		t.Fatalf("Walk visited %d (%v), want 601", n, err)
	}
}

func TestUserBlock(t *testing.T) {
	d, err := open(t, "userblock.h5").Root().Dataset("x")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := d.ReadFloat32(); !reflect.DeepEqual(v, []float32{1, 2}) {
		t.Fatalf("x = %v", v)
	}
}

// TestRefused: features outside the subset are refused by name.
func TestRefused(t *testing.T) {
	tests := []struct{ file, feature string }{
		{"latest.h5", "superblock version 3"},
		{"chunked.h5", "chunked dataset layout"},
		{"enum.h5", "datatype class enumerated"},
		{"compound.h5", "datatype class compound"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile("testdata/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			f, err := hdf5.Open(bytesReader(b), int64(len(b)))
			if err == nil {
				_, err = f.Root().Dataset("x")
			}
			var ue *hdf5.UnsupportedError
			if !errors.As(err, &ue) || !strings.Contains(ue.Feature, tc.feature) {
				t.Fatalf("want UnsupportedError naming %q, got %v", tc.feature, err)
			}
		})
	}
}

// TestFloat16: float16 data is converted to float32 exactly, subnormals,
// signed zero and infinities included.
func TestFloat16(t *testing.T) {
	d, err := open(t, "float16.h5").Root().Dataset("x")
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{1, 2, float32(math.Copysign(0, -1)), 6.103515625e-05, 5.960464477539063e-08, 65504,
		float32(math.Inf(1)), float32(math.Inf(-1))}
	got, err := d.ReadFloat32()
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("element %d: %v (%#x), want %v", i, got[i], math.Float32bits(got[i]), want[i])
		}
	}
	if d.DType.String() != "<f2" {
		t.Fatalf("dtype %s", d.DType)
	}
}

func TestFloat64Exact(t *testing.T) {
	d, err := open(t, "types.h5").Root().Dataset("f8be")
	if err != nil {
		t.Fatal(err)
	}
	v, err := d.ReadFloat64()
	if err != nil || math.Float64bits(v[2]) != math.Float64bits(1e300) {
		t.Fatalf("%v %v", v, err)
	}
}
