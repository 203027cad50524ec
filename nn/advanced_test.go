package nn

import (
	"math"
	"strings"
	"testing"
)

func TestReLUFamily(t *testing.T) {
	x := []float32{-2, -0.5, 0, 0.5, 1, 2, 7}
	e := func(v, a float64) float64 { return a * (math.Exp(v) - 1) }
	cases := []struct {
		name string
		l    Layer
		want []float64
	}{
		{"relu", &ReLU{LayerName: "r"}, []float64{0, 0, 0, 0.5, 1, 2, 7}},
		{"max 6", &ReLU{LayerName: "r", HasMax: true, MaxValue: 6}, []float64{0, 0, 0, 0.5, 1, 2, 6}},
		{"max 0.75", &ReLU{LayerName: "r", HasMax: true, MaxValue: 0.75}, []float64{0, 0, 0, 0.5, 0.75, 0.75, 0.75}},
		{"slope", &ReLU{LayerName: "r", NegativeSlope: 0.1}, []float64{-0.2, -0.05, 0, 0.5, 1, 2, 7}},
		{"threshold 1", &ReLU{LayerName: "r", Threshold: 1}, []float64{0, 0, 0, 0, 0, 2, 7}},
		{"threshold 1 slope", &ReLU{LayerName: "r", Threshold: 1, NegativeSlope: 0.5}, []float64{-1.5, -0.75, -0.5, -0.25, 0, 2, 7}},
		{"threshold -1 keeps x in (-1, 0)", &ReLU{LayerName: "r", Threshold: -1}, []float64{0, -0.5, 0, 0.5, 1, 2, 7}},
		{"threshold -1 max clips to 0", &ReLU{LayerName: "r", Threshold: -1, HasMax: true, MaxValue: 6}, []float64{0, 0, 0, 0.5, 1, 2, 6}},
		{"slope max", &ReLU{LayerName: "r", NegativeSlope: 0.1, HasMax: true, MaxValue: 1.5}, []float64{-0.2, -0.05, 0, 0.5, 1, 1.5, 1.5}},
		{"leaky", &LeakyReLU{LayerName: "l", Alpha: 0.3}, []float64{-0.6, -0.15, 0, 0.5, 1, 2, 7}},
		{"elu", &ELU{LayerName: "e", Alpha: 2}, []float64{e(-2, 2), e(-0.5, 2), 0, 0.5, 1, 2, 7}},
		{"activation tanh", &ActivationLayer{LayerName: "a", Activation: MustActivation("tanh", false)},
			[]float64{math.Tanh(-2), math.Tanh(-0.5), 0, math.Tanh(0.5), math.Tanh(1), math.Tanh(2), math.Tanh(7)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, y := fwdLayer(t, c.l, []Shape{{7}}, nil, 1, x)
			if !out.Equal(Shape{7}) {
				t.Fatalf("shape %v", out)
			}
			fwdClose(t, y, c.want)
		})
	}
}

func TestActivationLayerSoftmax(t *testing.T) {
	// Softmax runs over the last axis of each sample.
	l := &ActivationLayer{LayerName: "a", Activation: MustActivation("softmax", false)}
	_, y := fwdLayer(t, l, []Shape{{2, 2}}, nil, 1, []float32{0, 0, 1, 3})
	s := 1 / (1 + math.Exp(2))
	fwdClose(t, y, []float64{0.5, 0.5, s, 1 - s})
}

func TestPReLU(t *testing.T) {
	x := []float32{-1, -1, -1, -2, 2, -2}
	cases := []struct {
		shared []int
		alpha  []float32
		ashape Shape
		want   []float64
	}{
		{nil, []float32{1, 2, 3, 4, 5, 6}, Shape{2, 3}, []float64{-1, -2, -3, -8, 2, -12}},
		{[]int{1}, []float32{0.1, 0.2, 0.3}, Shape{1, 3}, []float64{-0.1, -0.2, -0.3, -0.2, 2, -0.6}},
		{[]int{2}, []float32{0.1, 0.2}, Shape{2, 1}, []float64{-0.1, -0.1, -0.1, -0.4, 2, -0.4}},
		{[]int{1, 2}, []float32{0.5}, Shape{1, 1}, []float64{-0.5, -0.5, -0.5, -1, 2, -1}},
	}
	for _, c := range cases {
		l := &PReLU{LayerName: "p", SharedAxes: c.shared}
		_, y := fwdLayer(t, l, []Shape{{2, 3}}, [][]float32{c.alpha}, 1, x)
		if w := l.Weights(); len(w) != 1 || w[0].Name != "alpha" || !w[0].Shape.Equal(c.ashape) {
			t.Errorf("shared %v: weights %v", c.shared, w)
		}
		fwdClose(t, y, c.want)
	}
	// Batch of two over a rank-3 input sharing the middle axis.
	l := &PReLU{LayerName: "p", SharedAxes: []int{2}}
	x3 := []float32{-1, -1, -1, -1, -1, -1, -1, -1, 1, -1, -1, -1, -1, -1, -1, -1}
	_, y := fwdLayer(t, l, []Shape{{2, 2, 2}}, [][]float32{{1, 2, 3, 4}}, 2, x3)
	fwdClose(t, y, []float64{-1, -2, -1, -2, -3, -4, -3, -4, 1, -2, -1, -2, -3, -4, -3, -4})
}

func TestAdvancedErrors(t *testing.T) {
	cases := []struct {
		l    Layer
		in   []Shape
		want string
	}{
		{&PReLU{LayerName: "p", SharedAxes: []int{3}}, []Shape{{2, 3}}, `layer "p" (PReLU): shared_axes [3]: axis 3 out of range 1..2 for input shape (None, 2, 3)`},
		{&PReLU{LayerName: "p", SharedAxes: []int{0}}, []Shape{{2, 3}}, "axis 0 out of range"},
		{&ReLU{LayerName: "r", HasMax: true, MaxValue: -1}, []Shape{{2}}, `layer "r" (ReLU): max_value: must not be negative, got -1`},
		{&ReLU{LayerName: "r", NegativeSlope: -1}, []Shape{{2}}, "negative_slope: must not be negative"},
		{&ActivationLayer{LayerName: "a"}, []Shape{{2}, {2}}, `layer "a" (Activation): want 1 input(s), got 2`},
		{&LeakyReLU{LayerName: "l"}, nil, "want 1 input(s), got 0"},
		{&ELU{LayerName: "e"}, nil, "want 1 input(s), got 0"},
	}
	for _, c := range cases {
		_, err := c.l.Build(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}
