package kerasconfig

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/nn"
)

// luongGraph is a Luong-attention forecaster (LSTM encoder, Dot scores,
// Softmax, Dot context, Concatenate, Dense) with a Rescaling and a
// Normalization in front, in one of the three dialects. extra is merged into
// the scores Dot's config, norm into the Normalization's.
func luongGraph(dialect Dialect, extra, norm string) string {
	type node struct{ name, class, cfg string }
	layers := []struct {
		node
		in []string
	}{
		{node{"scale", "Rescaling", `"scale":0.5,"offset":-1`}, []string{"in"}},
		{node{"norm", "Normalization", `"axis":[-1],"invert":false,"mean":null,"variance":null` + norm}, []string{"scale"}},
		{node{"enc", "LSTM", `"units":4,"return_sequences":true`}, []string{"norm"}},
		{node{"last", "LSTM", `"units":4,"return_sequences":true`}, []string{"enc"}},
		{node{"scores", "Dot", `"axes":[2,2],"normalize":false` + extra}, []string{"last", "enc"}},
		{node{"weights", "Softmax", `"axis":-1`}, []string{"scores"}},
		{node{"context", "Dot", `"axes":[2,1]`}, []string{"weights", "enc"}},
		{node{"hi", "Maximum", ``}, []string{"context", "last"}},
		{node{"lo", "Minimum", ``}, []string{"context", "last"}},
		{node{"cat", "Concatenate", `"axis":-1`}, []string{"hi", "lo"}},
		{node{"flat", "Flatten", ``}, []string{"cat"}},
		{node{"out", "Dense", `"units":2`}, []string{"flat"}},
	}
	var b strings.Builder
	input := `{"class_name":"InputLayer","name":"in","config":{"name":"in","batch_input_shape":[null,6,3]},"inbound_nodes":[]}`
	if dialect == DialectKeras3 {
		input = `{"class_name":"InputLayer","name":"in","config":{"name":"in","batch_shape":[null,6,3]},"inbound_nodes":[]}`
	}
	b.WriteString(`{"class_name":"Functional","config":{"name":"f","layers":[` + input)
	for _, l := range layers {
		writeGraphLayer(&b, dialect, l.name, l.class, l.cfg, l.in)
	}
	b.WriteString(`],"input_layers":[["in",0,0]],"output_layers":[["out",0,0]]}`)
	if dialect == DialectKeras3 {
		b.WriteString(`,"keras_version":"3.10.0"`)
	}
	b.WriteString(`}`)
	return b.String()
}

// TestLuongGraph builds the Luong-attention graph in the three dialects and
// checks that the options reach the layers.
func TestLuongGraph(t *testing.T) {
	for _, d := range []Dialect{DialectKeras2, DialectKeras213, DialectKeras3} {
		t.Run(string(d), func(t *testing.T) {
			m, info, err := Parse([]byte(luongGraph(d, `,"normalize":true`, "")), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if info.Dialect != d {
				t.Errorf("dialect %s, want %s", info.Dialect, d)
			}
			if !m.OutputShape().Equal(nn.Shape{2}) {
				t.Errorf("output shape %v", m.OutputShape())
			}
			layers := map[string]nn.Layer{}
			for _, nd := range m.Nodes() {
				layers[nd.Layer.Name()] = nd.Layer
			}
			scores := layers["scores"].(*nn.Dot)
			wantEps := float32(1e-6)
			if d == DialectKeras3 {
				wantEps = 1e-7
			}
			if scores.Axes != [2]int{2, 2} || !scores.Normalize || scores.NormEpsilon != wantEps {
				t.Errorf("scores %+v", scores)
			}
			if ctx := layers["context"].(*nn.Dot); ctx.Axes != [2]int{2, 1} || ctx.Normalize {
				t.Errorf("context %+v", ctx)
			}
			if sm := layers["weights"].(*nn.Softmax); !slices.Equal(sm.Axes, []int{-1}) {
				t.Errorf("softmax axes %v", sm.Axes)
			}
			if r := layers["scale"].(*nn.Rescaling); r.Scale != 0.5 || r.Offset != -1 {
				t.Errorf("rescaling %+v", r)
			}
			norm := layers["norm"].(*nn.Normalization)
			if !slices.Equal(norm.Axes, []int{-1}) || norm.Mean != nil || len(norm.Weights()) != 3 {
				t.Errorf("normalization %+v", norm)
			}
			if hi := layers["hi"].(*nn.Merge); hi.Op != nn.Maximum {
				t.Errorf("hi op %v", hi.Op)
			}
			if lo := layers["lo"].(*nn.Merge); lo.Op != nn.Minimum {
				t.Errorf("lo op %v", lo.Op)
			}
		})
	}
}

// TestMergeScalingOptions: the option spellings Keras writes.
func TestMergeScalingOptions(t *testing.T) {
	parse := func(t *testing.T, layer string) nn.Layer {
		t.Helper()
		return mustParse(t, seq(layer), "").Nodes()[0].Layer
	}
	t.Run("normalization_config_stats", func(t *testing.T) {
		l := parse(t, `{"class_name":"Normalization","config":{"name":"n","axis":-1,"mean":[1,2,3],"variance":[1,4,9]}}`).(*nn.Normalization)
		if !slices.Equal(l.Mean, []float64{1, 2, 3}) || !slices.Equal(l.StatsShape, []int{3}) || l.Weights() != nil {
			t.Errorf("%+v", l)
		}
	})
	t.Run("normalization_axis_none_scalar", func(t *testing.T) {
		l := parse(t, `{"class_name":"Normalization","config":{"name":"n","axis":[],"mean":2.5,"variance":4.0,"invert":true}}`).(*nn.Normalization)
		if len(l.Axes) != 0 || !l.Invert || len(l.StatsShape) != 0 || l.Mean[0] != 2.5 {
			t.Errorf("%+v", l)
		}
	})
	t.Run("normalization_two_axes_nested", func(t *testing.T) {
		l := parse(t, `{"class_name":"Normalization","config":{"name":"n","axis":[1,2],"mean":[[1],[2],[3],[4],[5],[6],[7],[8],[9],[10]],"variance":[[1],[1],[1],[1],[1],[1],[1],[1],[1],[1]]}}`).(*nn.Normalization)
		if !slices.Equal(l.StatsShape, []int{10, 1}) || len(l.Mean) != 10 {
			t.Errorf("%+v", l)
		}
	})
	t.Run("dot_int_axes", func(t *testing.T) {
		m := mustParse(t, `{"class_name":"Functional","config":{"name":"f","layers":[
			{"class_name":"InputLayer","name":"a","config":{"name":"a","batch_input_shape":[null,5,2]},"inbound_nodes":[]},
			{"class_name":"Dot","name":"d","config":{"name":"d","axes":-1},"inbound_nodes":[[["a",0,0,{}],["a",0,0,{}]]]}],
			"input_layers":[["a",0,0]],"output_layers":[["d",0,0]]}}`, "")
		if l := m.Nodes()[0].Layer.(*nn.Dot); l.Axes != [2]int{-1, -1} || !m.OutputShape().Equal(nn.Shape{5, 5}) {
			t.Errorf("%+v, output %v", l, m.OutputShape())
		}
	})
	t.Run("softmax_axis_list", func(t *testing.T) {
		if l := parse(t, `{"class_name":"Softmax","config":{"name":"s","axis":[1,2]}}`).(*nn.Softmax); !slices.Equal(l.Axes, []int{1, 2}) {
			t.Errorf("%+v", l)
		}
	})
}

// TestMergeScalingRefusals: what seqcast cannot run or read is an *Error
// naming the layer and the option.
func TestMergeScalingRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, layer, option, want string
		unsupported               bool
	}{
		{"rescaling_array", `{"class_name":"Rescaling","config":{"name":"x","scale":[1,2,3],"offset":0}}`, "scale", "a number", true},
		{"rescaling_no_scale", `{"class_name":"Rescaling","config":{"name":"x","offset":0}}`, "scale", "a number", false},
		{"norm_mean_only", `{"class_name":"Normalization","config":{"name":"x","mean":[1,2,3],"variance":null}}`, "", "both or neither", false},
		{"norm_ragged", `{"class_name":"Normalization","config":{"name":"x","mean":[[1],[2,3]],"variance":[[1],[2,3]]}}`, "mean", "nested list", false},
		{"norm_shapes_differ", `{"class_name":"Normalization","config":{"name":"x","mean":[1,2,3],"variance":[1]}}`, "variance", "shape of mean", false},
		{"softmax_axis_text", `{"class_name":"Softmax","config":{"name":"x","axis":"last"}}`, "axis", "list of axes", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse([]byte(seq(tc.layer)), Options{})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("want *Error, got %v", err)
			}
			if e.Layer != "x" || e.Option != tc.option || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("layer %q option %q: %v", e.Layer, e.Option, err)
			}
			if errors.Is(err, ErrUnsupported) != tc.unsupported {
				t.Errorf("wraps ErrUnsupported: %v, want %v", errors.Is(err, ErrUnsupported), tc.unsupported)
			}
		})
	}
	// Shapes the layers cannot take: the batch axis.
	for _, layer := range []string{
		`{"class_name":"Softmax","config":{"name":"x","axis":0}}`,
		`{"class_name":"Normalization","config":{"name":"x","axis":[0]}}`,
	} {
		_, _, err := Parse([]byte(seq(layer)), Options{})
		var se *nn.ShapeError
		if !errors.As(err, &se) || se.Layer != "x" {
			t.Errorf("%s: want an *nn.ShapeError, got %v", layer, err)
		}
	}
}

// TestMergeScalingMask: a Masking layer's mask reaching one of these layers
// is refused (Keras 3's Softmax would add -1e9 at masked positions; seqcast
// does not compute it).
func TestMergeScalingMask(t *testing.T) {
	for _, layer := range []string{
		`{"class_name":"Softmax","config":{"name":"x","axis":-1}}`,
		`{"class_name":"Normalization","config":{"name":"x","axis":-1,"mean":[1,2,3],"variance":[1,1,1]}}`,
		`{"class_name":"Rescaling","config":{"name":"x","scale":2.0,"offset":0.0}}`,
	} {
		_, _, err := Parse([]byte(seq(`{"class_name":"Masking","config":{"name":"m","mask_value":0.0}}`, layer)), Options{})
		if err == nil || !strings.Contains(err.Error(), "mask") {
			t.Errorf("%s after Masking: want a refusal naming the mask, got %v", layer, err)
		}
	}
}
