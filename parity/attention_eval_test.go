package parity

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/seqcast/seqcast/internal/ref64"
)

// A float64 evaluator of Keras functional configs for the attention
// goldens and the retail-transformer fixture. It reads model.json on its
// own (it shares nothing with kerasconfig or nn) and computes every layer
// with internal/ref64 or the float64 loops below, taking the weights, in
// get_weights() order, from next.

// weightSource hands out the next weight array of a shape: random for a
// new golden, read from the bundle or the .keras file otherwise.
type weightSource func(layer, name string, shape []int) ref64.Tensor

type evalLayer struct {
	Class  string         `json:"class_name"`
	Name   string         `json:"name"`
	Config map[string]any `json:"config"`
	Nodes  []any          `json:"inbound_nodes"`
}

// evalInbound returns a layer's input tensor names (positional, then by
// keyword query/value/key) and its call's keyword arguments.
func evalInbound(l evalLayer) ([]string, map[string]any) {
	if len(l.Nodes) != 1 {
		panic(fmt.Sprintf("layer %s: %d calls", l.Name, len(l.Nodes)))
	}
	var names []string
	kwargs := map[string]any{}
	var hist func(v any) []string
	hist = func(v any) []string {
		switch x := v.(type) {
		case map[string]any:
			if x["class_name"] == "__keras_tensor__" {
				return []string{x["config"].(map[string]any)["keras_history"].([]any)[0].(string)}
			}
		case []any:
			var out []string
			for _, e := range x {
				out = append(out, hist(e)...)
			}
			return out
		}
		return nil
	}
	switch n := l.Nodes[0].(type) {
	case map[string]any: // Keras 3
		names = hist(n["args"])
		kwargs, _ = n["kwargs"].(map[string]any)
		for _, k := range []string{"query", "value", "key"} {
			names = append(names, hist(kwargs[k])...)
		}
	case []any: // Keras 2
		for _, r := range n {
			rl := r.([]any)
			names = append(names, rl[0].(string))
			if len(rl) > 3 {
				kwargs, _ = rl[3].(map[string]any)
			}
		}
		for _, k := range []string{"value", "key"} {
			if t, ok := kwargs[k].([]any); ok {
				names = append(names, t[0].(string))
			}
		}
	}
	return names, kwargs
}

func cfgInt(c map[string]any, key string, def int) int {
	switch v := c[key].(type) {
	case float64:
		return int(v)
	case []any:
		if len(v) == 1 {
			return int(v[0].(float64))
		}
	}
	return def
}

func cfgBool(c map[string]any, key string, def bool) bool {
	if v, ok := c[key].(bool); ok {
		return v
	}
	return def
}

// evalModel runs a Functional config on x (batch first) in float64.
func evalModel(modelJSON []byte, x ref64.Tensor, next weightSource) (ref64.Tensor, error) {
	var top struct {
		Class   string `json:"class_name"`
		Version string `json:"keras_version"`
		Config  struct {
			Layers []evalLayer `json:"layers"`
			Output any         `json:"output_layers"`
		} `json:"config"`
	}
	if err := json.Unmarshal(modelJSON, &top); err != nil {
		return ref64.Tensor{}, err
	}
	keras3 := strings.HasPrefix(top.Version, "3")
	vals := map[string]ref64.Tensor{}
	var last string
	for _, l := range top.Config.Layers {
		name := l.Name
		if name == "" {
			name, _ = l.Config["name"].(string)
		}
		last = name
		if l.Class == "InputLayer" {
			vals[name] = x
			continue
		}
		inNames, kwargs := evalInbound(l)
		ins := make([]ref64.Tensor, len(inNames))
		for i, n := range inNames {
			t, ok := vals[n]
			if !ok {
				return ref64.Tensor{}, fmt.Errorf("layer %s: input %s not computed", name, n)
			}
			ins[i] = t
		}
		c := l.Config
		causal, _ := kwargs["use_causal_mask"].(bool)
		w := func(wn string, shape ...int) ref64.Tensor { return next(name, wn, shape) }
		var out ref64.Tensor
		switch l.Class {
		case "Dropout":
			out = ins[0]
		case "Dense":
			units := cfgInt(c, "units", 0)
			in := ins[0].Shape[len(ins[0].Shape)-1]
			k := w("kernel", in, units)
			var b ref64.Tensor
			if cfgBool(c, "use_bias", true) {
				b = w("bias", units)
			}
			eq := "abc,cd->abd"
			if len(ins[0].Shape) == 2 {
				eq = "ac,cd->ad"
			}
			act, _ := c["activation"].(string)
			out = ref64.EinsumDense(eq, "", ins[0], k, b, act)
		case "LayerNormalization":
			d := ins[0].Shape[len(ins[0].Shape)-1]
			g, b := w("gamma", d), w("beta", d)
			eps := c["epsilon"].(float64)
			out = ref64.New(ins[0].Shape...)
			for off := 0; off < len(out.Data); off += d {
				row := ins[0].Data[off : off+d]
				mean, v := 0.0, 0.0
				for _, e := range row {
					mean += e
				}
				mean /= float64(d)
				for _, e := range row {
					v += (e - mean) * (e - mean)
				}
				v /= float64(d)
				for i, e := range row {
					out.Data[off+i] = (e-mean)/math.Sqrt(v+eps)*g.Data[i] + b.Data[i]
				}
			}
		case "Add":
			out = ref64.New(ins[0].Shape...)
			for _, t := range ins {
				for i, e := range t.Data {
					out.Data[i] += e
				}
			}
		case "GlobalAveragePooling1D":
			B, T, F := ins[0].Shape[0], ins[0].Shape[1], ins[0].Shape[2]
			if c["data_format"] == "channels_first" {
				out = ref64.New(B, T)
				for i := range out.Data {
					for f := 0; f < F; f++ {
						out.Data[i] += ins[0].Data[i*F+f] / float64(F)
					}
				}
			} else {
				out = ref64.New(B, F)
				for b := 0; b < B; b++ {
					for t := 0; t < T; t++ {
						for f := 0; f < F; f++ {
							out.Data[b*F+f] += ins[0].Data[(b*T+t)*F+f] / float64(T)
						}
					}
				}
			}
		case "RepeatVector":
			rep := cfgInt(c, "n", 0)
			B, F := ins[0].Shape[0], ins[0].Shape[1]
			out = ref64.New(B, rep, F)
			for b := 0; b < B; b++ {
				for r := 0; r < rep; r++ {
					copy(out.Data[(b*rep+r)*F:(b*rep+r+1)*F], ins[0].Data[b*F:(b+1)*F])
				}
			}
		case "Flatten":
			n := len(ins[0].Data) / ins[0].Shape[0]
			out = ref64.Tensor{Shape: []int{ins[0].Shape[0], n}, Data: ins[0].Data}
		case "MultiHeadAttention":
			q, v := ins[0], ins[1]
			k := v
			if len(ins) > 2 {
				k = ins[2]
			}
			h, kd := cfgInt(c, "num_heads", 0), cfgInt(c, "key_dim", 0)
			vd, od := cfgInt(c, "value_dim", kd), cfgInt(c, "output_shape", q.Shape[2])
			bias := cfgBool(c, "use_bias", true)
			var mw ref64.MHAWeights
			proj := func(sub string, f, d int) (ref64.Tensor, ref64.Tensor) {
				kt := w(sub+"/kernel", f, h, d)
				var bt ref64.Tensor
				if bias {
					bt = w(sub+"/bias", h, d)
				}
				return kt, bt
			}
			mw.Wq, mw.Bq = proj("query", q.Shape[2], kd)
			mw.Wk, mw.Bk = proj("key", k.Shape[2], kd)
			mw.Wv, mw.Bv = proj("value", v.Shape[2], vd)
			mw.Wo = w("attention_output/kernel", h, vd, od)
			if bias {
				mw.Bo = w("attention_output/bias", od)
			}
			out = ref64.MHA(q, v, k, mw, causal)
		case "Attention", "AdditiveAttention":
			q, v := ins[0], ins[1]
			k := v
			if len(ins) > 2 {
				k = ins[2]
			}
			additive := l.Class == "AdditiveAttention"
			mode := ref64.Dot
			if additive {
				mode = ref64.Additive
			} else if c["score_mode"] == "concat" {
				mode = ref64.Concat
			}
			var aw ref64.AttentionWeights
			if cfgBool(c, "use_scale", additive) {
				shape := []int{}
				if additive {
					d := q.Shape[2]
					if !keras3 {
						d = v.Shape[2]
					}
					shape = []int{d}
				}
				aw.Scale = w("scale", shape...).Data
			}
			if mode == ref64.Concat {
				aw.ConcatWeight = w("concat_score_weight").Data[0]
			}
			out = ref64.Attention(q, v, k, mode, aw, causal || cfgBool(c, "causal", false))
		case "EinsumDense":
			eq := c["equation"].(string)
			var kshape []int
			var named []int
			switch os := c["output_shape"].(type) {
			case float64:
				named = []int{int(os)}
			case []any:
				for _, d := range os {
					if d == nil {
						named = append(named, 0)
					} else {
						named = append(named, int(d.(float64)))
					}
				}
			}
			inS, kerS, outS := einsumParts(eq)
			size := map[byte]int{}
			for i := 1; i < len(inS); i++ {
				size[inS[i]] = ins[0].Shape[i]
			}
			for i := 0; i < len(named); i++ {
				if named[i] != 0 {
					size[outS[len(outS)-len(named)+i]] = named[i]
				}
			}
			for i := range kerS {
				kshape = append(kshape, size[kerS[i]])
			}
			kt := w("kernel", kshape...)
			var bt ref64.Tensor
			if ba, _ := c["bias_axes"].(string); ba != "" {
				first := len(outS)
				for i := range ba {
					first = min(first, strings.IndexByte(outS, ba[i]))
				}
				var bshape []int
				for i := first; i < len(outS); i++ {
					if strings.IndexByte(ba, outS[i]) >= 0 {
						bshape = append(bshape, size[outS[i]])
					} else {
						bshape = append(bshape, 1)
					}
				}
				bt = w("bias", bshape...)
			}
			act, _ := c["activation"].(string)
			out = ref64.EinsumDense(eq, "", ins[0], kt, bt, act)
		default:
			return ref64.Tensor{}, fmt.Errorf("evaluator: class %s", l.Class)
		}
		vals[name] = out
	}
	return vals[last], nil
}

// einsumParts splits "in,kernel->out" (no ellipsis).
func einsumParts(eq string) (in, ker, out string) {
	lhs, out, _ := strings.Cut(eq, "->")
	in, ker, _ = strings.Cut(lhs, ",")
	return in, ker, out
}

// withoutLayer removes a one-input layer from a Functional config, wiring
// its consumers to its input (Keras 3 inbound nodes).
func withoutLayer(config []byte, name string) ([]byte, error) {
	var top map[string]any
	if err := json.Unmarshal(config, &top); err != nil {
		return nil, err
	}
	c := top["config"].(map[string]any)
	var kept []any
	from := ""
	for _, l := range c["layers"].([]any) {
		lm := l.(map[string]any)
		if lm["name"] == name {
			ins, _ := evalInbound(evalLayer{Name: name, Nodes: lm["inbound_nodes"].([]any)})
			from = ins[0]
			continue
		}
		kept = append(kept, l)
	}
	c["layers"] = kept
	out, err := json.Marshal(top)
	if err != nil {
		return nil, err
	}
	return []byte(strings.ReplaceAll(string(out), `"keras_history":["`+name+`",`, `"keras_history":["`+from+`",`)), nil
}
