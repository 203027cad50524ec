package nn

import (
	"strings"
	"testing"
)

func TestReshapeLayers(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	all := f64(x)
	cases := []struct {
		name  string
		l     Layer
		in    Shape
		shape Shape
		want  []float64
	}{
		{"flatten", &Flatten{LayerName: "f"}, Shape{2, 3}, Shape{6}, all},
		{"reshape", &Reshape{LayerName: "r", Target: []int{3, 2}}, Shape{2, 3}, Shape{3, 2}, all},
		{"reshape -1 first", &Reshape{LayerName: "r", Target: []int{-1, 1}}, Shape{2, 3}, Shape{6, 1}, all},
		{"reshape -1 last", &Reshape{LayerName: "r", Target: []int{3, 1, -1}}, Shape{6}, Shape{3, 1, 2}, all},
		{"identity", &Identity{LayerName: "drop", ClassName: "Dropout"}, Shape{3, 2}, Shape{3, 2}, all},
		{"repeat", &RepeatVector{LayerName: "rep", N: 2}, Shape{6}, Shape{2, 6},
			[]float64{1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 7, 8, 9, 10, 11, 12}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, y := fwdLayer(t, c.l, []Shape{c.in}, nil, 2, x)
			if !out.Equal(c.shape) {
				t.Fatalf("shape %v, want %v", out, c.shape)
			}
			fwdClose(t, y, c.want)
		})
	}
	if c := (&Identity{LayerName: "d", ClassName: "GaussianNoise"}).Class(); c != "GaussianNoise" {
		t.Errorf("Identity class %q", c)
	}
}

func TestReshapeErrors(t *testing.T) {
	cases := []struct {
		l    Layer
		in   []Shape
		want string
	}{
		{&Reshape{LayerName: "r", Target: []int{-1, -1}}, []Shape{{4}}, `layer "r" (Reshape): target_shape [-1 -1]: at most one dimension may be -1`},
		{&Reshape{LayerName: "r", Target: []int{5}}, []Shape{{2, 3}}, "target_shape [5]: has 5 values, input shape (None, 2, 3) has 6"},
		{&Reshape{LayerName: "r", Target: []int{4, -1}}, []Shape{{2, 3}}, "not a multiple of 4"},
		{&Reshape{LayerName: "r", Target: []int{0, 6}}, []Shape{{2, 3}}, "dimension 0 must be positive or -1, got 0"},
		{&Reshape{LayerName: "r"}, []Shape{{2, 3}}, "target_shape: empty"},
		{&RepeatVector{LayerName: "rv", N: 2}, []Shape{{2, 3}}, `layer "rv" (RepeatVector): input shape (None, 2, 3): want rank 1`},
		{&RepeatVector{LayerName: "rv", N: 0}, []Shape{{3}}, "n: must be positive, got 0"},
		{&Flatten{LayerName: "f"}, []Shape{{3}, {3}}, "want 1 input(s), got 2"},
		{&Identity{LayerName: "d", ClassName: "Dropout"}, nil, `layer "d" (Dropout): want 1 input(s), got 0`},
	}
	for _, c := range cases {
		_, err := c.l.Build(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}
