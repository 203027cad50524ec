package nn

// LSTM is keras.layers.LSTM (stateful=false, return_state=false). Weights:
// kernel (in, 4u), recurrent_kernel (u, 4u), bias (4u) when UseBias; gate
// column blocks in Keras's order i, f, c, o. With GoBackwards the input is
// read from the last step to the first, and with ReturnSequences the outputs
// stay in processing order (reversed time), as Keras returns them.
type LSTM struct {
	LayerName           string
	Units               int
	ReturnSequences     bool
	GoBackwards         bool
	UseBias             bool
	Activation          Activation // Keras default tanh
	RecurrentActivation Activation // Keras default sigmoid
}

// GRU is keras.layers.GRU. Weights: kernel (in, 3u), recurrent_kernel
// (u, 3u), then bias: (2, 3u) with ResetAfter (row 0 input bias, row 1
// recurrent bias), else (3u). Gate order z, r, h.
type GRU struct {
	LayerName           string
	Units               int
	ReturnSequences     bool
	GoBackwards         bool
	UseBias             bool
	ResetAfter          bool
	Activation          Activation
	RecurrentActivation Activation
}

// Bidirectional is keras.layers.Bidirectional over an LSTM or a GRU. ForwardLayer
// and BackwardLayer are two independent layers with their own weights (ForwardLayer's
// first in get_weights() order); BackwardLayer has GoBackwards set. MergeMode is
// "concat", "sum", "ave" or "mul". With ReturnSequences the backward
// layer's outputs are put back in time order before merging.
type Bidirectional struct {
	LayerName     string
	ForwardLayer  Layer // *LSTM or *GRU
	BackwardLayer Layer // *LSTM or *GRU, same class and return_sequences as Forward
	MergeMode     string
}

// Class returns "LSTM".
func (l *LSTM) Class() string                   { return "LSTM" }
func (l *LSTM) Name() string                    { return l.LayerName }
func (l *LSTM) Build(in []Shape) (Shape, error) { panic("TODO(nn): LSTM.Build") }
func (l *LSTM) Weights() []*Param               { return nil }
func (l *LSTM) Prepare() error                  { return nil }
func (l *LSTM) ScratchSize(n int) int           { return 0 }
func (l *LSTM) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	panic("TODO(nn): LSTM.Forward")
}

// Class returns "GRU".
func (l *GRU) Class() string                   { return "GRU" }
func (l *GRU) Name() string                    { return l.LayerName }
func (l *GRU) Build(in []Shape) (Shape, error) { panic("TODO(nn): GRU.Build") }
func (l *GRU) Weights() []*Param               { return nil }
func (l *GRU) Prepare() error                  { return nil }
func (l *GRU) ScratchSize(n int) int           { return 0 }
func (l *GRU) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	panic("TODO(nn): GRU.Forward")
}

// Class returns "Bidirectional".
func (l *Bidirectional) Class() string                   { return "Bidirectional" }
func (l *Bidirectional) Name() string                    { return l.LayerName }
func (l *Bidirectional) Build(in []Shape) (Shape, error) { panic("TODO(nn): Bidirectional.Build") }
func (l *Bidirectional) Weights() []*Param               { return nil }
func (l *Bidirectional) Prepare() error                  { return nil }
func (l *Bidirectional) ScratchSize(n int) int           { return 0 }
func (l *Bidirectional) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	panic("TODO(nn): Bidirectional.Forward")
}
