// Package nn is seqcast's inference engine: Keras layers re-implemented in
// float32 Go, and models that chain or branch them.
//
// Everything here is pure math: no file or network I/O. Package weights turns
// a model bundle (Keras config JSON plus .npy weights) into an nn.Model.
//
// Layout conventions follow Keras with channels_last: a batch of n samples is
// one flat []float32 in row-major order whose leading dimension is the batch.
// Shapes in this package never include the batch dimension; a recurrent
// layer's input of Keras shape (None, T, F) has Shape{T, F}.
//
// Layers are configured through exported fields, then validated once by
// Build. After Build a layer is immutable, so one model serves many
// goroutines at once; every call brings its own scratch memory (Model keeps a
// pool of workspaces so that a forward pass at steady state allocates nothing).
//
// Masks: a Masking layer computes, besides its output, one value per sample
// and time step; the model hands it along the layers that pass a mask on
// (MaskRule) to the recurrent layers (MaskedLayer), which skip masked steps
// as Keras does (masking.go). The mask lives in the workspace too.
package nn
