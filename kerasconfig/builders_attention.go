package kerasconfig

import (
	"fmt"

	"github.com/seqcast/seqcast/nn"
)

// addAttention adds the attention layers and EinsumDense to a builder
// table (Default calls it).
func addAttention(b Builders) {
	b["MultiHeadAttention"] = multiHeadAttention
	b["Attention"] = attention(false)
	b["AdditiveAttention"] = attention(true)
	b["EinsumDense"] = einsumDense
}

// keywordInputs is the call signature of the classes that take tensors by
// keyword (Keras 2 writes MultiHeadAttention's value that way, Keras 3 when
// the model passes value= or key=): their names in input order. Other
// classes take tensors only positionally.
func keywordInputs(class string) []string {
	if class == "MultiHeadAttention" {
		return []string{"query", "value", "key"}
	}
	return nil
}

// CallArg returns a keyword argument of the layer's call as a functional
// model's inbound node records it (use_causal_mask, training, ...), and
// whether it is present and not null. Sequential models record none.
func (c *LayerConfig) CallArg(key string) (any, bool) {
	v, ok := c.call[key]
	return v, ok && v != nil
}

// callFlag reads a boolean call argument; absent or null is false.
func (c *LayerConfig) callFlag(key string) (bool, error) {
	v, ok := c.CallArg(key)
	if !ok {
		return false, nil
	}
	b, isBool := v.(bool)
	if !isBool {
		return false, &Error{Layer: c.name, Class: c.class, Option: "call argument " + key, Value: jsonText(v),
			Err: fmt.Errorf("call argument %s=%s: want true or false", key, jsonText(v))}
	}
	return b, nil
}

// attentionCall reads the call arguments every attention layer shares:
// use_causal_mask (honoured) and return_attention_scores (refused: seqcast
// models have one output per layer).
func (c *LayerConfig) attentionCall() (causal bool, err error) {
	if scores, err := c.callFlag("return_attention_scores"); err != nil {
		return false, err
	} else if scores {
		return false, &Error{Layer: c.name, Class: c.class, Option: "call argument return_attention_scores", Value: "true",
			Supported: []string{"false"}, Err: unsupported("call argument return_attention_scores=true", []string{"false"})}
	}
	return c.callFlag("use_causal_mask")
}

func multiHeadAttention(c *LayerConfig) (nn.Layer, error) {
	l := &nn.MultiHeadAttention{LayerName: c.name}
	var err error
	if l.NumHeads, err = c.Positive("num_heads", Required); err != nil {
		return nil, err
	}
	if l.KeyDim, err = c.Positive("key_dim", Required); err != nil {
		return nil, err
	}
	if l.ValueDim, err = c.Positive("value_dim", l.KeyDim); err != nil {
		return nil, err
	}
	if l.UseBias, err = c.Bool("use_bias", true); err != nil {
		return nil, err
	}
	if v, ok := c.Value("output_shape"); ok {
		list := asList(v)
		if len(list) != 1 {
			return nil, c.Unsupported("output_shape", "null", "an integer", "a one-element list")
		}
		if l.OutputDim, err = c.Positive("output_shape", Required); err != nil {
			return nil, err
		}
	}
	if v, ok := c.Value("attention_axes"); ok {
		list := asList(v)
		ax, isInt := 0, false
		if len(list) == 1 {
			ax, isInt = intOf(list[0])
		}
		// Keras 3 maps a negative axis a to 3+a of the projected (B, T, H,
		// d) tensor, so -2 is the steps axis; Keras 2 does not map it.
		if !isInt || !(ax == 1 || ax == -2 && c.p.keras3) {
			return nil, c.Unsupported("attention_axes", "null", "[1] (the steps axis of (batch, steps, features) inputs)")
		}
	}
	if l.Causal, err = c.attentionCall(); err != nil {
		return nil, err
	}
	return l, nil
}

func attention(additive bool) Builder {
	return func(c *LayerConfig) (nn.Layer, error) {
		l := &nn.Attention{LayerName: c.name, Additive: additive, ScaleOnValue: additive && !c.p.keras3}
		var err error
		if l.UseScale, err = c.Bool("use_scale", additive); err != nil {
			return nil, err
		}
		if additive {
			l.Score = nn.ScoreAdditive
		} else {
			mode, err := c.OneOf("score_mode", "dot", "dot", "concat")
			if err != nil {
				return nil, err
			}
			if mode == "concat" {
				l.Score = nn.ScoreConcat
			}
		}
		// scale_by_dim (a TensorFlow-internal variant) divides dot scores
		// by sqrt(d); Keras's Attention has no such option.
		if err := c.MustBe("scale_by_dim", false); err != nil {
			return nil, err
		}
		// Keras <= 2.9 wrote the causal mask as the layer option "causal".
		old, err := c.Bool("causal", false)
		if err != nil {
			return nil, err
		}
		call, err := c.attentionCall()
		if err != nil {
			return nil, err
		}
		l.Causal = old || call
		return l, nil
	}
}

func einsumDense(c *LayerConfig) (nn.Layer, error) {
	l := &nn.EinsumDense{LayerName: c.name}
	var err error
	if l.Equation, err = c.Str("equation", ""); err != nil {
		return nil, err
	}
	if l.Equation == "" {
		return nil, c.Errorf("missing option equation")
	}
	v, ok := c.Value("output_shape")
	if !ok {
		return nil, c.Errorf("missing option output_shape")
	}
	if _, isList := v.([]any); !isList {
		v = []any{v}
	}
	for _, d := range v.([]any) {
		if d == nil {
			l.OutputShape = append(l.OutputShape, 0)
			continue
		}
		n, ok := intOf(d)
		if !ok || n < 1 {
			return nil, c.Invalid("output_shape", "an integer or a list of positive integers and nulls")
		}
		l.OutputShape = append(l.OutputShape, n)
	}
	if l.BiasAxes, err = c.Str("bias_axes", ""); err != nil {
		return nil, err
	}
	for _, key := range []string{"lora_rank", "quantization_config"} {
		if err = c.MustBeNull(key); err != nil {
			return nil, err
		}
	}
	l.Activation, err = c.Activation("activation", "", false)
	return l, err
}
