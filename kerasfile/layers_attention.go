package kerasfile

// addAttentionLayers adds the attention layers and EinsumDense to t.
//
// MultiHeadAttention holds four EinsumDense sublayers. In get_weights()
// order: query kernel and bias, key, value, then the output projection;
// without use_bias, the kernels only. An .h5 names them
// "<mha>/query/kernel:0" ... "<mha>/attention_output/bias:0" (Keras 2) or
// without ":0" (Keras 3); a .keras archive stores them under
// <key>/query_dense/vars, key_dense, value_dense and output_dense.
func addAttentionLayers(t Table) {
	t["MultiHeadAttention"] = LayerSpec{
		Weights: func(c map[string]any, _ Table) ([]string, error) {
			var out []string
			bias := truthy(c, "use_bias", true)
			for _, sub := range []string{"query", "key", "value", "attention_output"} {
				out = append(out, sub+"/kernel")
				if bias {
					out = append(out, sub+"/bias")
				}
			}
			return out, nil
		},
		Nesting:   NestSublayers,
		Sublayers: []string{"query_dense", "key_dense", "value_dense", "output_dense"},
	}
	t["EinsumDense"] = LayerSpec{Weights: func(c map[string]any, _ Table) ([]string, error) {
		if truthy(c, "bias_axes", false) {
			return []string{"kernel", "bias"}, nil
		}
		return []string{"kernel"}, nil
	}}
	t["Attention"] = LayerSpec{Weights: func(c map[string]any, _ Table) ([]string, error) {
		var out []string
		if truthy(c, "use_scale", false) {
			out = append(out, "scale")
		}
		if s, _ := c["score_mode"].(string); s == "concat" {
			out = append(out, "concat_score_weight")
		}
		return out, nil
	}}
	t["AdditiveAttention"] = LayerSpec{Weights: func(c map[string]any, _ Table) ([]string, error) {
		if truthy(c, "use_scale", true) {
			return []string{"scale"}, nil
		}
		return nil, nil
	}}
}
