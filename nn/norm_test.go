package nn

import (
	"math"
	"strings"
	"testing"
)

func TestBatchNormalization(t *testing.T) {
	x := []float32{1, 2, 3, 4, -1, 0}
	gamma, beta := []float32{2, 1}, []float32{1, 0}
	mean, variance := []float32{1, 2}, []float32{3, 0.999}
	bn := func(center, scale bool) []float64 {
		var y []float64
		for i, v := range x {
			c := i % 2
			r := (float64(v) - float64(mean[c])) / math.Sqrt(float64(variance[c])+1e-3)
			if scale {
				r *= float64(gamma[c])
			}
			if center {
				r += float64(beta[c])
			}
			y = append(y, r)
		}
		return y
	}
	cases := []struct {
		center, scale bool
		axis          int
		names         string
		weights       [][]float32
	}{
		{true, true, -1, "gamma beta moving_mean moving_variance", [][]float32{gamma, beta, mean, variance}},
		{false, true, 2, "gamma moving_mean moving_variance", [][]float32{gamma, mean, variance}},
		{true, false, -1, "beta moving_mean moving_variance", [][]float32{beta, mean, variance}},
		{false, false, -1, "moving_mean moving_variance", [][]float32{mean, variance}},
	}
	for _, c := range cases {
		l := &BatchNormalization{LayerName: "bn", Axis: c.axis, Epsilon: 1e-3, Center: c.center, Scale: c.scale}
		out, y := fwdLayer(t, l, []Shape{{3, 2}}, c.weights, 1, x)
		var names []string
		for _, p := range l.Weights() {
			names = append(names, p.Name)
			if !p.Shape.Equal(Shape{2}) {
				t.Errorf("%s shape %v", p.Name, p.Shape)
			}
		}
		if strings.Join(names, " ") != c.names || !out.Equal(Shape{3, 2}) {
			t.Errorf("weights %v, shape %v", names, out)
		}
		fwdClose(t, y, bn(c.center, c.scale))
	}
}

func TestLayerNormalization(t *testing.T) {
	x := []float32{1, 2, 3, 4, 10, 10, 10, 10}
	gamma, beta := []float32{1, 2, 3, 4}, []float32{0, 0, 1, -1}
	s := 1 / math.Sqrt(1.25+1e-3)
	cases := []struct {
		center, scale bool
		weights       [][]float32
		want          []float64
	}{
		{true, true, [][]float32{gamma, beta}, []float64{-1.5 * s, -0.5 * 2 * s, 0.5*3*s + 1, 1.5*4*s - 1, 0, 0, 1, -1}},
		{false, false, nil, []float64{-1.5 * s, -0.5 * s, 0.5 * s, 1.5 * s, 0, 0, 0, 0}},
		{true, false, [][]float32{beta}, []float64{-1.5 * s, -0.5 * s, 0.5*s + 1, 1.5*s - 1, 0, 0, 1, -1}},
	}
	for _, c := range cases {
		l := &LayerNormalization{LayerName: "ln", Axis: -1, Epsilon: 1e-3, Center: c.center, Scale: c.scale}
		_, y := fwdLayer(t, l, []Shape{{4}}, c.weights, 2, x)
		fwdClose(t, y, c.want)
	}
	// Large offsets: the float64 statistics keep full precision.
	big := []float32{1e4 + 1, 1e4 + 2, 1e4 + 3, 1e4 + 4}
	l := &LayerNormalization{LayerName: "ln", Axis: -1, Epsilon: 1e-3}
	_, y := fwdLayer(t, l, []Shape{{4}}, nil, 1, big)
	fwdClose(t, y, []float64{-1.5 * s, -0.5 * s, 0.5 * s, 1.5 * s})
}

func TestNormErrors(t *testing.T) {
	cases := []struct {
		l    Layer
		in   []Shape
		want string
	}{
		{&BatchNormalization{LayerName: "bn", Axis: 1}, []Shape{{3, 2}}, `layer "bn" (BatchNormalization): axis: only the last axis (-1 or 2) is supported, got 1`},
		{&BatchNormalization{LayerName: "bn", Axis: -1, Epsilon: -1}, []Shape{{3, 2}}, "epsilon: must not be negative"},
		{&LayerNormalization{LayerName: "ln", Axis: 0}, []Shape{{3}}, `layer "ln" (LayerNormalization): axis: only the last axis (-1 or 1) is supported, got 0`},
		{&LayerNormalization{LayerName: "ln", Axis: -1}, []Shape{{}}, "want rank >= 1"},
	}
	for _, c := range cases {
		_, err := c.l.Build(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
	l := &BatchNormalization{LayerName: "bn", Axis: -1}
	if _, err := l.Build([]Shape{{2}}); err != nil {
		t.Fatal(err)
	}
	l.Weights()[0].Value, l.Weights()[1].Value = []float32{0, 0}, []float32{1, 0}
	if err := l.Prepare(); err == nil || !strings.Contains(err.Error(), "moving_variance[1] + epsilon = 0: must be positive") {
		t.Errorf("Prepare error %v", err)
	}
}
