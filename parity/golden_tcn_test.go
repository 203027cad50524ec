package parity

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/internal/ref64"
	"github.com/seqcast/seqcast/kerasconfig"
)

// The TCN goldens: keras-tcn's TCN layer (philipperemy/keras-tcn), which
// TF.js lacks, each case a bundle under testdata/golden_tcn whose
// expected.npy is the float64 evaluation of its model.json by
// internal/ref64's loops (evalTCNModel below). Each case is also run a
// second way: the TCN expanded into a plain Keras graph of Conv1D (causal
// or same, dilated), BatchNormalization/LayerNormalization, Activation,
// Add, Cropping1D and Flatten layers that seqcast builds with its own,
// TF.js-checked, layers (tcnExpanded), which must match expected.npy too.
// Regenerate with
//
//	go test ./parity/ -run TestGoldenTCN -update-tcn
//
// (deterministic: weights and inputs come from a PCG seeded with the case
// name). See tools/golden/README.md.

var updateTCN = flag.Bool("update-tcn", false, "rewrite testdata/golden_tcn")

const tcnDir = "testdata/golden_tcn"

// wantTCNCases lists every TCN golden; the test fails if the directory
// holds another set. Keep it sorted.
var wantTCNCases = []string{
	"tcn_batchnorm_k3",
	"tcn_causal_noskip_seq_tanh_k3",
	"tcn_causal_skip_last_k3",
	"tcn_filter_list_noskip_k3",
	"tcn_filters16_skip_seq_k3",
	"tcn_go_backwards_k2_12",
	"tcn_identity_first_block_k3",
	"tcn_layernorm_seq_k2_12",
	"tcn_same_last_odd_k2_12",
	"tcn_same_seq_even_k3",
	"tcn_stacks2_k3",
}

type tcnGolden struct {
	name, version string
	T, C, n       int
	opts          map[string]any // TCN config over tcnDefaults
	dense         int            // units of a Dense after the TCN, 0 for none
}

func (c tcnGolden) keras3() bool { return strings.HasPrefix(c.version, "3") }

func tcnGoldenCases() []tcnGolden {
	return []tcnGolden{
		{"tcn_causal_skip_last_k3", "3.10.0", 16, 2, 4, map[string]any{}, 1},
		{"tcn_causal_noskip_seq_tanh_k3", "3.10.0", 12, 3, 4, map[string]any{"use_skip_connections": false, "return_sequences": true, "activation": "tanh"}, 2},
		{"tcn_stacks2_k3", "3.10.0", 14, 2, 4, map[string]any{"nb_stacks": 2, "dilations": []any{1, 2}}, 1},
		{"tcn_same_last_odd_k2_12", "2.12.0", 11, 2, 4, map[string]any{"padding": "same"}, 1},
		{"tcn_same_seq_even_k3", "3.10.0", 10, 3, 4, map[string]any{"padding": "same", "return_sequences": true, "activation": "sigmoid"}, 0},
		{"tcn_batchnorm_k3", "3.10.0", 13, 2, 4, map[string]any{"use_batch_norm": true}, 1},
		{"tcn_layernorm_seq_k2_12", "2.12.0", 12, 2, 4, map[string]any{"use_layer_norm": true, "return_sequences": true, "use_skip_connections": false}, 0},
		{"tcn_filter_list_noskip_k3", "3.10.0", 12, 2, 4, map[string]any{"nb_filters": []any{3, 5, 5}, "use_skip_connections": false}, 1},
		{"tcn_go_backwards_k2_12", "2.12.0", 10, 2, 4, map[string]any{"go_backwards": true, "return_sequences": true}, 0},
		// 16 filters: nn's im2col + AVX2 path (F a multiple of 8)
		{"tcn_filters16_skip_seq_k3", "3.10.0", 20, 3, 4, map[string]any{"nb_filters": 16, "dilations": []any{1, 2, 4, 8}, "return_sequences": true}, 0},
		{"tcn_identity_first_block_k3", "3.10.0", 12, 5, 4, map[string]any{"kernel_size": 2, "dilations": []any{1, 2, 4, 8}}, 1},
	}
}

// tcnConfig is the case's TCN config as keras-tcn's get_config() writes it.
func (c tcnGolden) tcnConfig() map[string]any {
	cfg := map[string]any{"name": "tcn", "trainable": true, "nb_filters": 5, "kernel_size": 3, "nb_stacks": 1,
		"dilations": []any{1, 2, 4}, "padding": "causal", "use_skip_connections": true, "dropout_rate": 0.2,
		"return_sequences": false, "activation": "relu", "use_batch_norm": false, "use_layer_norm": false,
		"kernel_initializer": "he_normal"}
	if c.keras3() {
		cfg["dtype"] = map[string]any{"module": "keras", "class_name": "DTypePolicy", "config": map[string]any{"name": "float32"}, "registered_name": nil}
		cfg["go_backwards"], cfg["return_state"] = false, false
	} else {
		cfg["dtype"] = "float32"
		cfg["use_weight_norm"] = false
	}
	for k, v := range c.opts {
		cfg[k] = v
	}
	return cfg
}

// modelJSON writes a Sequential InputLayer -> TCN [-> Dense] config: Keras
// 3's (registered_name Custom>TCN, module tcn.tcn, build_config) or Keras
// 2's (class TCN only).
func (c tcnGolden) modelJSON() []byte {
	k3 := c.keras3()
	in := map[string]any{"name": "input_layer", "dtype": "float32", "sparse": false}
	if k3 {
		in["batch_shape"] = []any{nil, c.T, c.C}
	} else {
		in["batch_input_shape"] = []any{nil, c.T, c.C}
		in["ragged"] = false
	}
	layers := []any{map[string]any{"class_name": "InputLayer", "config": in}}
	tcn := map[string]any{"class_name": "TCN", "config": c.tcnConfig()}
	if k3 {
		tcn["module"], tcn["registered_name"] = "tcn.tcn", "Custom>TCN"
		tcn["build_config"] = map[string]any{"input_shape": []any{nil, c.T, c.C}}
	}
	layers = append(layers, tcn)
	if c.dense > 0 {
		d := map[string]any{"class_name": "Dense", "config": map[string]any{"name": "dense", "units": c.dense, "activation": "linear", "use_bias": true}}
		if k3 {
			d["module"], d["registered_name"] = "keras.layers", nil
		}
		layers = append(layers, d)
	}
	top := map[string]any{"class_name": "Sequential", "keras_version": c.version, "backend": "tensorflow",
		"config": map[string]any{"name": "sequential", "layers": layers}}
	b, err := json.MarshalIndent(top, "", " ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// tcnRefConfig turns a TCN layer config into ref64's.
func tcnRefConfig(c map[string]any) ref64.TCNConfig {
	ints := func(key string, def []int) []int {
		switch v := c[key].(type) {
		case float64:
			return []int{int(v)}
		case int:
			return []int{v}
		case []any:
			out := make([]int, len(v))
			for i, e := range v {
				switch e := e.(type) {
				case float64:
					out[i] = int(e)
				case int:
					out[i] = e
				}
			}
			return out
		}
		return def
	}
	str := func(key, def string) string {
		if s, ok := c[key].(string); ok {
			return s
		}
		return def
	}
	r := ref64.TCNConfig{Filters: ints("nb_filters", []int{64}), KernelSize: ints("kernel_size", []int{3})[0],
		Stacks: ints("nb_stacks", []int{1})[0], Dilations: ints("dilations", []int{1, 2, 4, 8, 16, 32}),
		Padding: str("padding", "causal"), Skip: cfgBool(c, "use_skip_connections", true),
		ReturnSequences: cfgBool(c, "return_sequences", false), GoBackwards: cfgBool(c, "go_backwards", false),
		Activation: str("activation", "relu")}
	switch {
	case cfgBool(c, "use_batch_norm", false):
		r.Norm = "batch"
	case cfgBool(c, "use_layer_norm", false):
		r.Norm = "layer"
	}
	return r
}

// tcnRefWeights takes a TCN's arrays from next in seqcast's order (per
// block: conv1D_0 kernel and bias, its norm, conv1D_1, its norm, then
// matching_conv1D when the block changes the channel count).
func tcnRefWeights(c ref64.TCNConfig, C int, layer string, next weightSource) []ref64.TCNBlockWeights {
	var out []ref64.TCNBlockWeights
	in, k := C, 0
	for s := 0; s < c.Stacks; s++ {
		for i := range c.Dilations {
			F := c.FiltersAt(i)
			var w ref64.TCNBlockWeights
			block := fmt.Sprintf("residual_block_%d/", k)
			cin := in
			for j := 0; j < 2; j++ {
				conv := fmt.Sprintf("%sconv1D_%d/", block, j)
				w.Kernel[j], w.Bias[j] = next(layer, conv+"kernel", []int{c.KernelSize, cin, F}), next(layer, conv+"bias", []int{F})
				cin = F
				suffix := ""
				if j == 1 {
					suffix = "_1"
				}
				switch c.Norm {
				case "batch":
					g := block + "batch_norm_layers/batch_normalization" + suffix + "/"
					w.Norm[j] = ref64.TCNNorm{Gamma: next(layer, g+"gamma", []int{F}).Data, Beta: next(layer, g+"beta", []int{F}).Data,
						Mean: next(layer, g+"moving_mean", []int{F}).Data, Variance: next(layer, g+"moving_variance", []int{F}).Data}
				case "layer":
					g := block + "layer_norm_layers/layer_normalization" + suffix + "/"
					w.Norm[j] = ref64.TCNNorm{Gamma: next(layer, g+"gamma", []int{F}).Data, Beta: next(layer, g+"beta", []int{F}).Data}
				}
			}
			if in != F {
				w.MatchKernel = next(layer, block+"matching_conv1D/kernel", []int{1, in, F})
				w.MatchBias = next(layer, block+"matching_conv1D/bias", []int{F})
			}
			out = append(out, w)
			in = F
			k++
		}
	}
	return out
}

// evalTCNModel runs a Sequential or Functional chain of InputLayer, TCN,
// Dense and Dropout layers (each fed by the previous one) in float64.
func evalTCNModel(modelJSON []byte, x ref64.Tensor, next weightSource) (ref64.Tensor, error) {
	var top struct {
		Config struct {
			Layers []evalLayer `json:"layers"`
		} `json:"config"`
	}
	if err := json.Unmarshal(modelJSON, &top); err != nil {
		return ref64.Tensor{}, err
	}
	cur := x
	for _, l := range top.Config.Layers {
		name, _ := l.Config["name"].(string)
		switch l.Class {
		case "InputLayer", "Dropout":
		case "TCN":
			c := tcnRefConfig(l.Config)
			cur = ref64.TCN(c, cur, tcnRefWeights(c, cur.Shape[2], name, next))
		case "Dense":
			units := cfgInt(l.Config, "units", 0)
			in := cur.Shape[len(cur.Shape)-1]
			k, b := next(name, "kernel", []int{in, units}), next(name, "bias", []int{units})
			eq := "abc,cd->abd"
			if len(cur.Shape) == 2 {
				eq = "ac,cd->ad"
			}
			act, _ := l.Config["activation"].(string)
			cur = ref64.EinsumDense(eq, "", cur, k, b, act)
		default:
			return ref64.Tensor{}, fmt.Errorf("TCN evaluator: class %s", l.Class)
		}
	}
	return cur, nil
}

// drawTCN is a weight source of seeded values scaled by what the weight is.
func drawTCN(r *rand.Rand, arrays *[][]float32, shapes *[][]int) weightSource {
	return func(layer, name string, shape []int) ref64.Tensor {
		t := ref64.New(shape...)
		a := make([]float32, len(t.Data))
		lo, hi := -0.5, 0.5
		switch name[strings.LastIndex(name, "/")+1:] {
		case "kernel":
			fan := 1
			for _, d := range shape[:len(shape)-1] {
				fan *= d
			}
			s := 1.5 * math.Sqrt(3/float64(fan))
			lo, hi = -s, s
		case "gamma":
			lo, hi = 0.6, 1.4
		case "moving_variance":
			lo, hi = 0.5, 1.5
		}
		for i := range a {
			a[i] = float32(lo + (hi-lo)*r.Float64())
			t.Data[i] = float64(a[i])
		}
		*arrays = append(*arrays, a)
		*shapes = append(*shapes, append([]int(nil), shape...))
		return t
	}
}

func writeTCNCase(c tcnGolden) error {
	js := c.modelJSON()
	r := seeded(c.name)
	x := make([]float32, c.n*c.T*c.C)
	xt := ref64.New(c.n, c.T, c.C)
	for i := range x {
		x[i] = float32(r.Float64()*3 - 1.5)
		xt.Data[i] = float64(x[i])
	}
	var arrays [][]float32
	var shapes [][]int
	y, err := evalTCNModel(js, xt, drawTCN(r, &arrays, &shapes))
	if err != nil {
		return err
	}
	return writeRefBundle(filepath.Join(tcnDir, c.name), js, x, []int{c.n, c.T, c.C}, arrays, shapes, y)
}

// TestGoldenTCN runs every TCN golden through package weights and nn
// (1e-5 + 1e-5*|golden|), checks that expected.npy is still the float64
// evaluation of the bundle's own files, and that the TCN expanded into
// plain Keras layers gives expected.npy too.
func TestGoldenTCN(t *testing.T) {
	cases := tcnGoldenCases()
	if *updateTCN {
		for _, c := range cases {
			if err := writeTCNCase(c); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
	}
	byName := map[string]tcnGolden{}
	var names []string
	for _, c := range cases {
		names = append(names, c.name)
		byName[c.name] = c
	}
	checkRefGoldens(t, tcnDir, names, wantTCNCases, "-update-tcn", evalTCNModel,
		func(t *testing.T, name string, x []float32, arrays [][]float32, golden []float32) {
			// The second formulation: seqcast's own Conv1D/norm/Add graph.
			worst := tcnExpanded(t, byName[name], x, arrays, golden)
			t.Logf("expanded plain-layer graph: worst err/tol %.3g", worst)
			if !(worst <= 1) {
				t.Errorf("the expanded graph is off by %.3g tolerances", worst)
			}
		})
}

// tcnExpanded builds the case's TCN as a Keras 3 functional graph of
// plain layers (Conv1D, BatchNormalization or LayerNormalization,
// Activation, Add, Cropping1D + Flatten for the one returned step, then
// the Dense), sets the golden's arrays in that graph's order, runs it with
// package nn (go_backwards: on the reversed input) and returns the worst
// err/tol against want.
func tcnExpanded(t *testing.T, c tcnGolden, x []float32, arrays [][]float32, want []float32) float64 {
	t.Helper()
	cfg := tcnRefConfig(c.tcnConfig())
	act := map[string]any{"activation": cfg.Activation}
	var ls []gl
	var order []int // index into arrays of each expanded weight, in graph order
	k, in, cur := 0, c.C, "INPUT"
	var skips []string
	blockNo := 0
	for s := 0; s < cfg.Stacks; s++ {
		for i, d := range cfg.Dilations {
			F := cfg.FiltersAt(i)
			p := fmt.Sprintf("b%d_", blockNo)
			h := cur
			for j := 0; j < 2; j++ {
				conv := fmt.Sprintf("%sconv%d", p, j)
				ls = append(ls, gl{name: conv, class: "Conv1D", cfg: map[string]any{"filters": F, "kernel_size": []any{cfg.KernelSize},
					"dilation_rate": []any{d}, "padding": cfg.Padding, "activation": "linear", "use_bias": true, "strides": []any{1}}, args: []string{h}})
				order = append(order, k, k+1)
				k += 2
				h = conv
				switch cfg.Norm {
				case "batch":
					ls = append(ls, gl{name: p + fmt.Sprintf("bn%d", j), class: "BatchNormalization", cfg: map[string]any{"axis": -1, "epsilon": 1e-3, "center": true, "scale": true}, args: []string{h}})
					order = append(order, k, k+1, k+2, k+3)
					k += 4
					h = p + fmt.Sprintf("bn%d", j)
				case "layer":
					ls = append(ls, gl{name: p + fmt.Sprintf("ln%d", j), class: "LayerNormalization", cfg: map[string]any{"axis": -1, "epsilon": 1e-3, "center": true, "scale": true}, args: []string{h}})
					order = append(order, k, k+1)
					k += 2
					h = p + fmt.Sprintf("ln%d", j)
				}
				ls = append(ls, gl{name: p + fmt.Sprintf("act%d", j), class: "Activation", cfg: act, args: []string{h}})
				h = p + fmt.Sprintf("act%d", j)
			}
			ls = append(ls, gl{name: p + "act_blocks", class: "Activation", cfg: act, args: []string{h}})
			x1 := p + "act_blocks"
			x2 := cur
			if in != F {
				ls = append(ls, gl{name: p + "match", class: "Conv1D", cfg: map[string]any{"filters": F, "kernel_size": []any{1}, "padding": "same", "activation": "linear", "use_bias": true}, args: []string{cur}})
				order = append(order, k, k+1)
				k += 2
				x2 = p + "match"
			}
			ls = append(ls, gl{name: p + "add", class: "Add", args: []string{x2, x1}, list: true})
			ls = append(ls, gl{name: p + "out", class: "Activation", cfg: act, args: []string{p + "add"}})
			skips = append(skips, x1)
			cur, in = p+"out", F
			blockNo++
		}
	}
	if cfg.Skip {
		if len(skips) > 1 {
			ls = append(ls, gl{name: "skip_add", class: "Add", args: skips, list: true})
			cur = "skip_add"
		} else {
			cur = skips[0]
		}
	}
	if !cfg.ReturnSequences {
		idx := c.T - 1
		if cfg.Padding == "same" {
			idx = c.T / 2
		}
		ls = append(ls, gl{name: "slice", class: "Cropping1D", cfg: map[string]any{"cropping": []any{idx, c.T - 1 - idx}}, args: []string{cur}})
		ls = append(ls, gl{name: "flat", class: "Flatten", cfg: map[string]any{"data_format": "channels_last"}, args: []string{"slice"}})
		cur = "flat"
	}
	if c.dense > 0 {
		ls = append(ls, gl{name: "dense", class: "Dense", cfg: map[string]any{"units": c.dense, "activation": "linear", "use_bias": true}, args: []string{cur}})
		order = append(order, k, k+1)
		k += 2
	}
	if k != len(arrays) {
		t.Fatalf("the expanded graph maps %d arrays, the golden has %d", k, len(arrays))
	}
	js := attentionCase{name: c.name, version: "3.10.0", input: []int{c.T, c.C}, n: c.n, layers: ls}.modelJSON()
	m, _, err := kerasconfig.Parse(js, kerasconfig.Options{KerasVersion: "3.10.0"})
	if err != nil {
		t.Fatal(err)
	}
	set := make([][]float32, len(order))
	for i, j := range order {
		set[i] = arrays[j]
	}
	if err := m.SetWeights(set); err != nil {
		t.Fatal(err)
	}
	if cfg.GoBackwards {
		rev := make([]float32, len(x))
		for b := 0; b < c.n; b++ {
			for s := 0; s < c.T; s++ {
				copy(rev[(b*c.T+s)*c.C:(b*c.T+s+1)*c.C], x[(b*c.T+c.T-1-s)*c.C:(b*c.T+c.T-s)*c.C])
			}
		}
		x = rev
	}
	got, err := m.Predict(x, c.n)
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for i, w := range want {
		worst = math.Max(worst, math.Abs(float64(got[i]-w))/(absTol+relTol*math.Abs(float64(w))))
	}
	return worst
}
