package nn

import (
	"errors"
	"math"
	"testing"
)

// softmaxRef is softmax in float64 over the per-sample axes in reduce.
func softmaxRef(s Shape, reduce []bool, x []float32, n int) []float64 {
	want := make([]float64, 0, len(x))
	key := func(c []int) int {
		k := 0
		for d := range s {
			if !reduce[d] {
				k = k*s[d] + c[d]
			}
		}
		return k
	}
	for i := range n {
		v := f64(x[i*s.Size() : (i+1)*s.Size()])
		sum := map[int]float64{}
		for j, c := range coords(s) {
			sum[key(c)] += math.Exp(v[j])
		}
		for j, c := range coords(s) {
			want = append(want, math.Exp(v[j])/sum[key(c)])
		}
	}
	return want
}

func TestSoftmaxLayer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		axes   []int
		shape  Shape
		reduce []bool
	}{
		{"default_last", nil, Shape{4, 3}, []bool{false, true}},
		{"axis_1_time", []int{1}, Shape{4, 3}, []bool{true, false}},
		{"axis_-2", []int{-2}, Shape{4, 3}, []bool{true, false}},
		{"both_axes", []int{1, 2}, Shape{4, 3}, []bool{true, true}},
		{"rank3_outer_inner", []int{1, -1}, Shape{2, 3, 2}, []bool{true, false, true}},
		{"vector", []int{-1}, Shape{5}, []bool{true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 3
			x := fwdRand(3, n*tc.shape.Size())
			for i := range x {
				x[i] *= 4
			}
			_, got := fwdLayer(t, &Softmax{LayerName: "sm", Axes: tc.axes}, []Shape{tc.shape}, nil, n, x)
			fwdClose(t, got, softmaxRef(tc.shape, tc.reduce, x, n))
		})
	}
	for _, axes := range [][]int{{0}, {-3}, {3}} {
		_, err := (&Softmax{LayerName: "sm", Axes: axes}).Build([]Shape{{4, 3}})
		var se *ShapeError
		if !errors.As(err, &se) {
			t.Errorf("axis %v: want a *ShapeError, got %v", axes, err)
		}
	}
}

func TestRescaling(t *testing.T) {
	x := []float32{0, 127.5, 255, -10}
	_, got := fwdLayer(t, &Rescaling{LayerName: "r", Scale: 1.0 / 127.5, Offset: -1}, []Shape{{2}}, nil, 2, x)
	fwdClose(t, got, []float64{-1, 0, 1, -10/127.5 - 1})
}

// normRef is Keras's Normalization in float64: mean and variance given per
// kept position (index by key), the std floored at 1e-7.
func normRef(s Shape, kept []bool, mean, variance []float64, invert bool, x []float32, n int) []float64 {
	var want []float64
	for i := range n {
		v := f64(x[i*s.Size() : (i+1)*s.Size()])
		for j, c := range coords(s) {
			k := 0
			for d := range s {
				if kept[d] {
					k = k*s[d] + c[d]
				}
			}
			sd := math.Max(math.Sqrt(variance[k]), 1e-7)
			if invert {
				want = append(want, mean[k]+v[j]*sd)
			} else {
				want = append(want, (v[j]-mean[k])/sd)
			}
		}
	}
	return want
}

func TestNormalization(t *testing.T) {
	s := Shape{4, 3}
	n := 2
	x := fwdRand(4, n*s.Size())
	m3, v3 := []float64{0.5, -1, 2}, []float64{4, 0.25, 0}
	m4 := []float64{1, 2, 3, 4}
	v4 := []float64{1, 9, 0.01, 2}
	tile := func(v []float64, k int) []float64 { // per-row value repeated for each of k columns
		var out []float64
		for _, a := range v {
			for range k {
				out = append(out, a)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name       string
		l          *Normalization
		weights    [][]float32
		kept       []bool
		mean, vari []float64
	}{
		{"adapted_last_axis", &Normalization{Axes: []int{-1}}, [][]float32{{0.5, -1, 2}, {4, 0.25, 0}, {100}},
			[]bool{false, true}, m3, v3},
		{"adapted_invert", &Normalization{Axes: []int{2}, Invert: true}, [][]float32{{0.5, -1, 2}, {4, 0.25, 0}, {100}},
			[]bool{false, true}, m3, v3},
		{"adapted_axis_none", &Normalization{}, [][]float32{{1.5}, {2.25}, {7}},
			[]bool{false, false}, []float64{1.5}, []float64{2.25}},
		{"config_vector", &Normalization{Axes: []int{-1}, Mean: m3, Variance: v3, StatsShape: []int{3}}, nil,
			[]bool{false, true}, m3, v3},
		{"config_scalar", &Normalization{Axes: []int{-1}, Mean: []float64{3}, Variance: []float64{2}, StatsShape: []int{}}, nil,
			[]bool{false, true}, []float64{3, 3, 3}, []float64{2, 2, 2}},
		{"config_time_axis", &Normalization{Axes: []int{1}, Mean: m4, Variance: v4, StatsShape: []int{4}}, nil,
			[]bool{true, false}, m4, v4},
		{"config_both_axes_broadcast", &Normalization{Axes: []int{1, 2}, Mean: m4, Variance: v4, StatsShape: []int{4, 1}}, nil,
			[]bool{true, true}, tile(m4, 3), tile(v4, 3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.l.LayerName = "norm"
			_, got := fwdLayer(t, tc.l, []Shape{s}, tc.weights, n, x)
			fwdClose(t, got, normRef(s, tc.kept, tc.mean, tc.vari, tc.l.Invert, x, n))
		})
	}
}

func TestNormalizationErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		l    *Normalization
	}{
		{"batch_axis", &Normalization{Axes: []int{0}}},
		{"batch_axis_negative", &Normalization{Axes: []int{-3}}},
		{"out_of_range", &Normalization{Axes: []int{3}}},
		{"mean_rank", &Normalization{Axes: []int{-1}, Mean: make([]float64, 12), Variance: make([]float64, 12), StatsShape: []int{4, 3}}},
		{"mean_broadcast", &Normalization{Axes: []int{-1}, Mean: make([]float64, 4), Variance: make([]float64, 4), StatsShape: []int{4}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.l.LayerName = "norm"
			_, err := tc.l.Build([]Shape{{4, 3}})
			var se *ShapeError
			if !errors.As(err, &se) || se.Class != "Normalization" {
				t.Fatalf("want a *ShapeError, got %v", err)
			}
		})
	}
	l := &Normalization{LayerName: "norm", Axes: []int{-1}}
	if _, err := l.Build([]Shape{{4, 3}}); err != nil {
		t.Fatal(err)
	}
	ps := l.Weights()
	ps[0].Value, ps[1].Value, ps[2].Value = []float32{0, 0, 0}, []float32{1, -1, 1}, []float32{0}
	if err := l.Prepare(); err == nil {
		t.Fatal("negative variance: no error")
	}
}
