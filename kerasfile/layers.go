package kerasfile

import (
	"fmt"
	"sort"
	"strings"
)

// Nesting says where a .keras archive keeps the variables of a layer.
type Nesting int

const (
	// NestVars: <key>/vars/0, 1, ... (Dense, Conv1D, BatchNormalization, ...).
	NestVars Nesting = iota
	// NestRNN: <key>/vars, then <key>/cell/vars (LSTM, GRU, SimpleRNN).
	NestRNN
	// NestBidirectional: <key>/vars, then <key>/forward_layer and
	// <key>/backward_layer, each laid out as its inner layer's class says.
	NestBidirectional
	// NestWrapper: <key>/vars, then <key>/layer laid out as the inner
	// layer's class says (TimeDistributed).
	NestWrapper
	// NestSublayers: <key>/vars, then <key>/<sub>/vars for each of the
	// spec's Sublayers in order (MultiHeadAttention's query_dense,
	// key_dense, value_dense, output_dense); Keras 2.13 archives may name
	// them with a leading underscore.
	NestSublayers
	// NestNamed: <key>/vars, then, for each weight name's directory in the
	// order of the spec's names ("residual_block_0/conv1D_0/kernel" is in
	// residual_block_0/conv1D_0), <key>/<directory>/vars holding exactly
	// that directory's weights (keras-tcn's TCN).
	NestNamed
)

// LayerSpec describes how one layer class stores its weights.
type LayerSpec struct {
	// Weights returns the base names of a layer's weights in the order of
	// model.get_weights() ("kernel", "recurrent_kernel", "bias", ...), given
	// the layer's "config" object. Wrappers call t.WeightNames on their
	// inner layer. A nil Weights means the class has no weights.
	Weights func(config map[string]any, t Table) ([]string, error)
	Nesting Nesting
	// Sublayers names the sub-groups of a NestSublayers layer, in order.
	Sublayers []string
	// Layer, when set, is Weights given the whole layer object (its
	// build_config too); Weights is then unused.
	Layer func(layer map[string]any, t Table) ([]string, error)
}

// Table maps Keras class names to how their weights are stored. Build one
// with DefaultLayers and add entries to it for other classes; pass it in
// Options. There is no package-level registry.
type Table map[string]LayerSpec

// Classes lists the table's class names, sorted.
func (t Table) Classes() []string {
	out := make([]string, 0, len(t))
	for k := range t {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// WeightNames returns the weight base names, in get_weights() order, of a
// layer given as {"class_name": ..., "config": {...}}. ok is false when the
// class is not in the table.
func (t Table) WeightNames(layer map[string]any) (names []string, ok bool, err error) {
	cls, _ := layer["class_name"].(string)
	spec, ok := t[cls]
	if !ok {
		return nil, false, nil
	}
	switch {
	case spec.Layer != nil:
		names, err = spec.Layer(layer, t)
	case spec.Weights == nil:
		return []string{}, true, nil
	default:
		names, err = spec.Weights(layerConfig(layer), t)
	}
	if names == nil && err == nil {
		names = []string{}
	}
	return names, err == nil, err
}

func layerConfig(layer map[string]any) map[string]any {
	c, _ := layer["config"].(map[string]any)
	if c == nil {
		c = map[string]any{}
	}
	return c
}

// truthy is Python's truth value of config[key], with def when the key is
// missing (the exporter reads options with c.get(key, default)).
func truthy(c map[string]any, key string, def bool) bool {
	v, ok := c[key]
	if !ok {
		return def
	}
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

func fixed(names ...string) func(map[string]any, Table) ([]string, error) {
	return func(map[string]any, Table) ([]string, error) { return names, nil }
}

func withBias(first ...string) func(map[string]any, Table) ([]string, error) {
	return func(c map[string]any, _ Table) ([]string, error) {
		out := append([]string(nil), first...)
		if truthy(c, "use_bias", true) {
			out = append(out, "bias")
		}
		return out, nil
	}
}

// innerLayer is a wrapper's config[key] as a layer object.
func innerLayer(c map[string]any, key, wrapper string) (map[string]any, error) {
	l, ok := c[key].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s without an inner layer config", wrapper)
	}
	return l, nil
}

// errUnknownInner reports a wrapper around a class the table lacks.
type errUnknownInner struct{ class string }

func (e errUnknownInner) Error() string { return "inner layer class " + e.class + " is not supported" }

func bidirectional(c map[string]any, t Table) ([]string, error) {
	fwd, err := innerLayer(c, "layer", "Bidirectional")
	if err != nil {
		return nil, err
	}
	bwd := fwd
	if b, ok := c["backward_layer"].(map[string]any); ok && len(b) > 0 {
		bwd = b
	}
	f, fok, err := t.WeightNames(fwd)
	if err != nil {
		return nil, err
	}
	b, bok, err := t.WeightNames(bwd)
	if err != nil {
		return nil, err
	}
	if !fok || !bok {
		cls, _ := fwd["class_name"].(string)
		if fok {
			cls, _ = bwd["class_name"].(string)
		}
		return nil, errUnknownInner{cls}
	}
	out := make([]string, 0, len(f)+len(b))
	for _, n := range f {
		out = append(out, "forward/"+n)
	}
	for _, n := range b {
		out = append(out, "backward/"+n)
	}
	return out, nil
}

func timeDistributed(c map[string]any, t Table) ([]string, error) {
	inner, err := innerLayer(c, "layer", "TimeDistributed")
	if err != nil {
		return nil, err
	}
	names, ok, err := t.WeightNames(inner)
	if err != nil {
		return nil, err
	}
	if !ok {
		cls, _ := inner["class_name"].(string)
		return nil, errUnknownInner{cls}
	}
	return names, nil
}

// DefaultLayers returns a new table of the classes the Python exporter
// (tools/seqcast_export/keras_reader.py) knows: those with weights, and the
// weightless ones. The caller owns the map.
func DefaultLayers() Table {
	t := Table{}
	for _, c := range []string{"Dense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose",
		"DepthwiseConv1D", "DepthwiseConv2D", "LocallyConnected1D"} {
		t[c] = LayerSpec{Weights: withBias("kernel")}
	}
	for _, c := range []string{"SeparableConv1D", "SeparableConv2D"} {
		t[c] = LayerSpec{Weights: withBias("depthwise_kernel", "pointwise_kernel")}
	}
	for _, c := range []string{"LSTM", "GRU", "SimpleRNN"} {
		t[c] = LayerSpec{Weights: withBias("kernel", "recurrent_kernel"), Nesting: NestRNN}
	}
	for _, c := range []string{"CuDNNLSTM", "CuDNNGRU"} {
		t[c] = LayerSpec{Weights: fixed("kernel", "recurrent_kernel", "bias"), Nesting: NestRNN}
	}
	t["Bidirectional"] = LayerSpec{Weights: bidirectional, Nesting: NestBidirectional}
	t["TimeDistributed"] = LayerSpec{Weights: timeDistributed, Nesting: NestWrapper}
	t["BatchNormalization"] = LayerSpec{Weights: func(c map[string]any, _ Table) ([]string, error) {
		var out []string
		if truthy(c, "scale", true) {
			out = append(out, "gamma")
		}
		if truthy(c, "center", true) {
			out = append(out, "beta")
		}
		return append(out, "moving_mean", "moving_variance"), nil
	}}
	t["LayerNormalization"] = LayerSpec{Weights: func(c map[string]any, _ Table) ([]string, error) {
		var out []string
		if truthy(c, "scale", true) {
			out = append(out, "gamma")
		}
		if truthy(c, "center", true) && !truthy(c, "rms_scaling", false) {
			out = append(out, "beta")
		}
		return out, nil
	}}
	addAttentionLayers(t) // layers_attention.go
	addTCNLayers(t)       // layers_tcn.go
	addConvLSTMLayers(t)  // layers_convlstm.go
	t["PReLU"] = LayerSpec{Weights: fixed("alpha")}
	// Normalization: adapt()'s mean, variance and count (an integer scalar),
	// none when the config gives mean and variance.
	t["Normalization"] = LayerSpec{Weights: func(c map[string]any, _ Table) ([]string, error) {
		if c["mean"] != nil {
			return nil, nil
		}
		return []string{"mean", "variance", "count"}, nil
	}}
	t["Embedding"] = LayerSpec{Weights: fixed("embeddings")}
	for _, c := range strings.Fields(`InputLayer Dropout SpatialDropout1D GaussianNoise GaussianDropout AlphaDropout
		Flatten Reshape Permute RepeatVector Activation ReLU LeakyReLU ELU Softmax
		MaxPooling1D AveragePooling1D GlobalMaxPooling1D GlobalAveragePooling1D
		MaxPooling2D AveragePooling2D GlobalMaxPooling2D GlobalAveragePooling2D
		MaxPool1D AvgPool1D GlobalMaxPool1D GlobalAvgPool1D
		Cropping1D ZeroPadding1D UpSampling1D Masking
		Concatenate Add Subtract Multiply Average Maximum Minimum Dot
		ActivityRegularization Identity Rescaling`) {
		t[c] = LayerSpec{}
	}
	return t
}
