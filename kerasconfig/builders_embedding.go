package kerasconfig

import (
	"github.com/seqcast/seqcast/nn"
)

// addEmbedding adds Embedding to a builder table (Default calls it). Its
// config reads the same in Keras 2 (<= 2.12 and 2.13-2.15) and Keras 3.
func addEmbedding(b Builders) {
	b["Embedding"] = embedding
}

// embedding reads input_dim and output_dim. input_length (Keras 2) is
// accepted (the input shape says the same); the embeddings_* initializer,
// regularizer and constraint and activity_regularizer are training-only and
// ignored. mask_zero=true makes an nn.EmbeddingMaskZero, whose mask (id != 0,
// per step of a (T,) input) the layers after it follow as they follow a
// Masking layer's. Keras 3's sparse gradients, LoRA (lora_rank, lora_alpha)
// and quantization are refused by name.
func embedding(c *LayerConfig) (nn.Layer, error) {
	maskZero, err := c.Bool("mask_zero", false)
	if err != nil {
		return nil, err
	}
	if err := c.MustBe("sparse", false); err != nil {
		return nil, err
	}
	for _, key := range []string{"lora_rank", "lora_alpha", "quantization_config"} {
		if err := c.MustBeNull(key); err != nil {
			return nil, err
		}
	}
	in, err := c.Positive("input_dim", Required)
	if err != nil {
		return nil, err
	}
	out, err := c.Positive("output_dim", Required)
	if err != nil {
		return nil, err
	}
	if _, err := c.Int("input_length", 0); err != nil {
		return nil, err
	}
	e := nn.Embedding{LayerName: c.name, InputDim: in, OutputDim: out}
	if maskZero {
		return &nn.EmbeddingMaskZero{Embedding: e}, nil
	}
	return &e, nil
}

// intDType reports whether an InputLayer's dtype is an integer one Keras
// feeds an Embedding with ("int32", "int64").
func intDType(m map[string]any) bool {
	v := m["dtype"]
	if p, ok := v.(map[string]any); ok {
		if c, ok := p["config"].(map[string]any); ok {
			v = c["name"]
		}
	}
	s := stringOf(v)
	return s == "int32" || s == "int64"
}

// checkIntInputs refuses a model whose integer-typed input (an InputLayer
// with dtype int32 or int64, names) feeds anything but Embedding layers:
// seqcast computes in float32, which only an Embedding's id lookup reads the
// same as Keras's integers.
func checkIntInputs(m *nn.Model, inputNames []string, ints map[string]bool) error {
	if len(ints) == 0 {
		return nil
	}
	for _, nd := range m.Nodes() {
		if isEmbedding(nd.Layer) {
			continue
		}
		for _, k := range nd.Inputs {
			if k >= 0 {
				continue
			}
			if j := nn.InputIndex(k); j < len(inputNames) && ints[inputNames[j]] {
				return &Error{Layer: nd.Layer.Name(), Class: nd.Layer.Class(), Supported: []string{"Embedding"},
					Err: unsupported("reading integer input "+inputNames[j]+" (dtype int32/int64)", []string{"Embedding"})}
			}
		}
	}
	return nil
}

// isEmbedding reports whether l is an Embedding, with or without mask_zero.
func isEmbedding(l nn.Layer) bool {
	switch l.(type) {
	case *nn.Embedding, *nn.EmbeddingMaskZero:
		return true
	}
	return false
}
