// Package kerasconfig turns a Keras model config (model.to_json(), an .h5
// file's model_config attribute, a .keras zip's config.json, or TF.js's
// modelTopology) into an nn.Model without weights.
//
// Parse reads the three dialects Keras writes (Keras <= 2.12, 2.13-2.15 and
// 3), decides which Keras semantics apply (they differ for hard_sigmoid),
// wires Sequential models and single-input single-output Functional graphs,
// and builds every layer from its config through a class -> builder table.
//
// The table is a value: Default returns a fresh Builders, and Parse takes
// the one to use in Options, so a program adds or removes classes without
// global state. It is also the one list of what seqcast supports: every
// error about an unknown class lists Builders.Classes, and
// docs/bundle-format.md's list is checked against it.
//
// Every error Parse returns is an *Error naming the file (Options.File), the
// layer and its class, the option and its value, and what is supported.
// Everything seqcast cannot run (return_state,
// channels_first, grouped convolutions, mixed precision, unknown layers or
// activations, ...) wraps ErrUnsupported. Options without meaning at
// inference (initializers, regularizers, constraints, dropout rates,
// trainable) are accepted and ignored. Stateful RNNs load and compute
// every call from a zero state (ModelInfo.Stateful names them). A mask
// from Masking follows Keras's rules (builders_seq.go, nn/masking.go).
//
// The files split the work by job:
//
//	parse.go     Parse, Options, ModelInfo and the bound on activations
//	dialect.go   dialect detection and keras_version semantics
//	graph.go     Sequential and Functional wiring, tensor references
//	options.go   LayerConfig: reading and checking one layer's options
//	builders.go  Builder, Builders, Default: the class -> builder table
//	builders_seq.go  Masking, Permute, padding, Conv1DTranspose; stateful
//	             and mask checks
//	builders_attention.go  MultiHeadAttention, Attention, AdditiveAttention,
//	             EinsumDense; which tensors a call may pass by keyword
//	builders_tcn.go  keras-tcn's TCN (class TCN, registered Custom>TCN)
//	json.go      JSON decoding and value helpers
//	errors.go    Error and ErrUnsupported
package kerasconfig
