package kerasfile

import (
	"errors"
	"fmt"
	"strings"

	"github.com/seqcast/seqcast/hdf5"
)

// addTCNLayers adds keras-tcn's TCN layer (philipperemy/keras-tcn) to t.
//
// A TCN holds nb_stacks*len(dilations) residual blocks, each with two
// dilated Conv1D (conv1D_0, conv1D_1), a normalization after each with
// use_batch_norm or use_layer_norm, and a 1x1 matching_conv1D when the
// block's input has another channel count than its filters (otherwise a
// weightless matching_identity Lambda). A .keras archive stores them as
// Keras 3's saving walks the layer's attributes:
//
//	<key>/residual_block_<k>/conv1D_0/vars/{0,1}            kernel, bias
//	<key>/residual_block_<k>/batch_norm_layers/batch_normalization/vars/{0..3}
//	<key>/residual_block_<k>/conv1D_1/vars/{0,1}
//	<key>/residual_block_<k>/batch_norm_layers/batch_normalization_1/vars/{0..3}
//	<key>/residual_block_<k>/matching_conv1D/vars/{0,1}
//
// (layer_norm_layers/layer_normalization and _1, gamma and beta, with
// use_layer_norm). The weight names below are those paths plus the
// weight's base name, in that order, which is also the order of nn.TCN's
// Weights; an .h5 file's weight_names are checked by base name. (A
// Keras 2 .h5 lists a layer's trainable weights before its non-trainable
// ones, so with use_batch_norm its moving statistics would come last: such
// a file fails that check rather than loading in another order. No such
// file was available to test.)
//
// Whether block 0 has a matching convolution depends on the TCN's input
// channels, which the config gives in build_config (Keras 3) or
// batch_input_shape (a first layer); without either the TCN is refused.
func addTCNLayers(t Table) {
	t["TCN"] = LayerSpec{Layer: tcnWeights, Nesting: NestNamed}
}

// tcnIntList reads nb_filters or dilations: an integer or a list of them.
func tcnIntList(c map[string]any, key string, def []int) ([]int, error) {
	v, ok := c[key]
	if !ok || v == nil {
		return def, nil
	}
	l, isList := v.([]any)
	if !isList {
		l = []any{v}
	}
	if len(l) == 0 || len(l) > 1024 {
		return nil, fmt.Errorf("TCN option %s: want a positive integer or a list of 1 to 1024 of them", key)
	}
	out := make([]int, len(l))
	for i, e := range l {
		f, ok := e.(float64)
		if !ok || f < 1 || f != float64(int(f)) || f > 1<<30 {
			return nil, fmt.Errorf("TCN option %s: want positive integers", key)
		}
		out[i] = int(f)
	}
	return out, nil
}

// tcnInputChannels is the last dimension of the TCN's input shape.
func tcnInputChannels(layer, c map[string]any) (int, bool) {
	var shape []any
	if bc, ok := layer["build_config"].(map[string]any); ok {
		shape, _ = bc["input_shape"].([]any)
	}
	if shape == nil {
		shape, _ = c["batch_input_shape"].([]any)
	}
	if len(shape) == 0 {
		return 0, false
	}
	f, ok := shape[len(shape)-1].(float64)
	if !ok || f < 1 || f != float64(int(f)) || f > 1<<30 {
		return 0, false
	}
	return int(f), true
}

func tcnWeights(layer map[string]any, _ Table) ([]string, error) {
	c := layerConfig(layer)
	if truthy(c, "use_weight_norm", false) {
		return nil, errors.New("TCN with use_weight_norm=true (tensorflow_addons' WeightNormalization around each Conv1D) is not supported: only use_weight_norm=false")
	}
	filters, err := tcnIntList(c, "nb_filters", []int{64})
	if err != nil {
		return nil, err
	}
	dilations, err := tcnIntList(c, "dilations", []int{1, 2, 4, 8, 16, 32})
	if err != nil {
		return nil, err
	}
	if len(filters) != 1 && len(filters) != len(dilations) {
		return nil, fmt.Errorf("TCN option nb_filters: %d counts for %d dilations", len(filters), len(dilations))
	}
	stacks := 1
	if v, ok := c["nb_stacks"].(float64); ok {
		stacks = int(v)
	}
	if stacks < 1 || stacks*len(dilations) > 1024 {
		return nil, fmt.Errorf("TCN option nb_stacks: want 1 to %d blocks in all", 1024)
	}
	in, ok := tcnInputChannels(layer, c)
	if !ok {
		return nil, errors.New("TCN: the config gives no input shape (build_config or batch_input_shape), which tells whether its first residual block has a matching_conv1D")
	}
	var norm []string
	var group string
	switch {
	case truthy(c, "use_batch_norm", false):
		group, norm = "batch_norm_layers/batch_normalization", []string{"gamma", "beta", "moving_mean", "moving_variance"}
	case truthy(c, "use_layer_norm", false):
		group, norm = "layer_norm_layers/layer_normalization", []string{"gamma", "beta"}
	}
	var out []string
	k := 0
	for s := 0; s < stacks; s++ {
		for i := range dilations {
			f := filters[0]
			if len(filters) > 1 {
				f = filters[i]
			}
			block := fmt.Sprintf("residual_block_%d/", k)
			for j := 0; j < 2; j++ {
				out = append(out, fmt.Sprintf("%sconv1D_%d/kernel", block, j), fmt.Sprintf("%sconv1D_%d/bias", block, j))
				g := group
				if j == 1 {
					g += "_1"
				}
				for _, n := range norm {
					out = append(out, block+g+"/"+n)
				}
			}
			if in != f {
				out = append(out, block+"matching_conv1D/kernel", block+"matching_conv1D/bias")
			}
			in = f
			k++
		}
	}
	return out, nil
}

// readNamed reads a NestNamed layer: each directory of its weight names,
// in order, is a group whose vars hold exactly its weights.
func (rd *reader) readNamed(g *hdf5.Group, path string, l *layer, obj map[string]any, consumed map[string]bool, out *[]Weight) error {
	names, _, err := rd.layers.WeightNames(obj)
	if err != nil {
		return rd.err(l, path, "%v", err)
	}
	for i := 0; i < len(names); {
		dir := names[i][:strings.LastIndex(names[i], "/")+1]
		j := i
		for j < len(names) && strings.HasPrefix(names[j], dir) && !strings.Contains(names[j][len(dir):], "/") {
			j++
		}
		dir = strings.TrimSuffix(dir, "/")
		sg := g
		for _, part := range strings.Split(dir, "/") {
			if !sg.Has(part) {
				return rd.err(l, path, "%s has no %s group", l.class, dir)
			}
			if sg, err = sg.Group(part); err != nil {
				return rd.wrap(l, path+"/"+dir, err)
			}
		}
		ws, err := rd.vars(l, sg, path+"/"+dir, consumed)
		if err != nil {
			return err
		}
		if len(ws) != j-i {
			return rd.err(l, path+"/"+dir, "holds %d weight arrays, want %d (%s)", len(ws), j-i, strings.Join(names[i:j], ", "))
		}
		*out = append(*out, ws...)
		i = j
	}
	return nil
}
