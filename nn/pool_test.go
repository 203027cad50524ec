package nn

import (
	"strings"
	"testing"
)

func TestPooling1D(t *testing.T) {
	x5 := []float32{1, 5, 2, 4, 3}
	neg := []float32{-1, -5, -2}
	cases := []struct {
		name         string
		kind         PoolKind
		x            []float32
		pool, stride int
		padding      string
		want         []float64
	}{
		{"max valid", MaxPool, x5, 2, 0, "valid", []float64{5, 4}},
		{"max same (last window half padding)", MaxPool, x5, 2, 0, "same", []float64{5, 4, 3}},
		{"avg valid", AvgPool, x5, 2, 2, "", []float64{3, 3}},
		{"avg same divides by real count", AvgPool, x5, 2, 2, "same", []float64{3, 3, 3}},
		{"avg same p3 s1", AvgPool, x5, 3, 1, "same", []float64{3, 8. / 3, 11. / 3, 3, 3.5}},
		{"avg valid p3 s2", AvgPool, x5, 3, 2, "valid", []float64{8. / 3, 3}},
		{"max same ignores pads", MaxPool, neg, 3, 1, "same", []float64{-1, -1, -2}},
		{"max valid s1", MaxPool, x5, 2, 1, "valid", []float64{5, 5, 4, 4}},
		{"max same p4 s1 (pad 1 left, 2 right)", MaxPool, x5, 4, 1, "same", []float64{5, 5, 5, 4, 4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := &Pooling1D{LayerName: "pool", Kind: c.kind, PoolSize: c.pool, Strides: c.stride, Padding: c.padding}
			out, y := fwdLayer(t, l, []Shape{{len(c.x), 1}}, nil, 1, c.x)
			if !out.Equal(Shape{len(c.want), 1}) {
				t.Fatalf("shape %v, want (None, %d, 1)", out, len(c.want))
			}
			fwdClose(t, y, c.want)
		})
	}
}

func TestPooling1DChannelsBatch(t *testing.T) {
	// Two samples of (4, 2): channels pool independently.
	x := []float32{
		1, -1, 2, -2, 3, -3, 4, -4,
		8, 0, 6, 1, 4, 2, 2, 3,
	}
	l := &Pooling1D{LayerName: "p", Kind: MaxPool, PoolSize: 2}
	_, y := fwdLayer(t, l, []Shape{{4, 2}}, nil, 2, x)
	fwdClose(t, y, []float64{2, -1, 4, -3, 8, 1, 4, 3})
	a := &Pooling1D{LayerName: "p", Kind: AvgPool, PoolSize: 2}
	_, y = fwdLayer(t, a, []Shape{{4, 2}}, nil, 2, x)
	fwdClose(t, y, []float64{1.5, -1.5, 3.5, -3.5, 7, 0.5, 3, 2.5})
	if a.Class() != "AveragePooling1D" || l.Class() != "MaxPooling1D" {
		t.Errorf("classes %s %s", a.Class(), l.Class())
	}
}

func TestGlobalPooling1D(t *testing.T) {
	x := []float32{1, -2, 3, -4, 5, -6, 0, 0, 0, 0, 0, 9}
	cases := []struct {
		kind  PoolKind
		keep  bool
		shape Shape
		class string
		want  []float64
	}{
		{MaxPool, false, Shape{2}, "GlobalMaxPooling1D", []float64{5, -2, 0, 9}},
		{AvgPool, false, Shape{2}, "GlobalAveragePooling1D", []float64{3, -4, 0, 3}},
		{AvgPool, true, Shape{1, 2}, "GlobalAveragePooling1D", []float64{3, -4, 0, 3}},
	}
	for _, c := range cases {
		l := &GlobalPooling1D{LayerName: "g", Kind: c.kind, KeepDims: c.keep}
		out, y := fwdLayer(t, l, []Shape{{3, 2}}, nil, 2, x)
		if !out.Equal(c.shape) || l.Class() != c.class {
			t.Errorf("%s: shape %v", l.Class(), out)
		}
		fwdClose(t, y, c.want)
	}
}

func TestPoolingErrors(t *testing.T) {
	cases := []struct {
		l    Layer
		in   []Shape
		want string
	}{
		{&Pooling1D{LayerName: "p", PoolSize: 0}, []Shape{{4, 1}}, `layer "p" (MaxPooling1D): pool_size: must be positive, got 0`},
		{&Pooling1D{LayerName: "p", PoolSize: 2, Padding: "causal"}, []Shape{{4, 1}}, `padding: want "valid" or "same", got "causal"`},
		{&Pooling1D{LayerName: "p", PoolSize: 5}, []Shape{{4, 1}}, "4 steps are fewer than pool_size 5"},
		{&Pooling1D{LayerName: "p", PoolSize: 2, Strides: -1}, []Shape{{4, 1}}, "strides: must be positive, got -1"},
		{&Pooling1D{LayerName: "p", Kind: AvgPool, PoolSize: 2}, []Shape{{4}}, `layer "p" (AveragePooling1D): input shape (None, 4): want rank 2`},
		{&GlobalPooling1D{LayerName: "g"}, []Shape{{4, 2, 1}}, "want rank 2"},
		{&GlobalPooling1D{LayerName: "g"}, nil, "want 1 input(s), got 0"},
	}
	for _, c := range cases {
		_, err := c.l.Build(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}
