package nn

import (
	"fmt"
	"math"
)

// Embedding is keras.layers.Embedding: every value of the input is cast to
// an int32 (truncated toward zero, as Keras's cast of a float input does) and
// replaced by that row of the (InputDim, OutputDim) embeddings matrix, so the
// output's shape is the input's plus (OutputDim).
//
// Keras accepts a float id such as 3.7 and looks up row 3 (and -0.5 looks up
// row 0): seqcast does the same. An id that is not finite or whose truncation
// is outside [0, InputDim) is an error in Keras on CPU (TensorFlow's gather
// refuses it); here the model checks every Embedding's ids before the pass
// (Model.Forward and ForwardMulti return an *IndexError) so Forward never
// sees one. For that reason an Embedding must read a model input directly:
// NewGraph refuses one fed by another layer.
type Embedding struct {
	LayerName           string
	InputDim, OutputDim int

	size       int // ids per sample
	embeddings Param
}

// Class returns "Embedding".
func (l *Embedding) Class() string { return "Embedding" }

// Name returns the Keras layer name.
func (l *Embedding) Name() string { return l.LayerName }

// Build takes one input of any shape and appends OutputDim to it.
func (l *Embedding) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	if l.InputDim < 1 || l.OutputDim < 1 {
		return nil, errorf(l, "input_dim %d and output_dim %d must be positive", l.InputDim, l.OutputDim)
	}
	if l.InputDim > 1<<24 {
		return nil, errorf(l, "input_dim %d: seqcast takes ids as float32, exact up to %d", l.InputDim, 1<<24)
	}
	l.size = in[0].Size()
	l.embeddings = Param{Name: "embeddings", Shape: Shape{l.InputDim, l.OutputDim}}
	return append(in[0].Clone(), l.OutputDim), nil
}

// Weights returns the embeddings matrix, (input_dim, output_dim).
func (l *Embedding) Weights() []*Param { return []*Param{&l.embeddings} }

// Prepare checks the matrix's size.
func (l *Embedding) Prepare() error { return checkParams(l) }

// ScratchSize is 0.
func (l *Embedding) ScratchSize(n int) int { return 0 }

// Forward copies one row per id. Ids were checked by the model (CheckIDs);
// an id out of range that reaches Forward anyway (a caller running the layer
// on its own) gives a row of NaN, never another row.
func (l *Embedding) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	d := l.OutputDim
	table := l.embeddings.Value
	nan := float32(math.NaN())
	for i, v := range ins[0][:n*l.size] {
		row := out[i*d : (i+1)*d]
		if k, ok := l.id(v); ok {
			copy(row, table[k*d:(k+1)*d])
			continue
		}
		for j := range row {
			row[j] = nan
		}
	}
}

// id is Keras's int32 cast of v, and whether it indexes a row.
func (l *Embedding) id(v float32) (int, bool) {
	f := float64(v)
	if !(f > -1 && f < float64(l.InputDim)) { // NaN fails both
		return 0, false
	}
	return int(f), true // truncation toward zero
}

// CheckIDs checks n samples of the layer's input: every value must be finite
// and truncate to an index in [0, InputDim). input is the model input's
// index, which the error names.
func (l *Embedding) CheckIDs(x []float32, n, input int) error {
	for i, v := range x[:n*l.size] {
		if _, ok := l.id(v); !ok {
			return &IndexError{Layer: l.LayerName, Input: input, Sample: i / l.size, Position: i % l.size, Value: v, InputDim: l.InputDim}
		}
	}
	return nil
}

// IndexError is an Embedding input value that is not a row of the layer's
// embeddings: not finite, or outside [0, InputDim) after truncation toward
// zero. Model.Forward and ForwardMulti return it before running anything.
type IndexError struct {
	Layer    string  // the Embedding layer's name
	Input    int     // the model input the ids come from
	Sample   int     // the sample in the batch
	Position int     // the value's position inside the sample (row-major)
	Value    float32 // the offending value
	InputDim int     // the layer's input_dim
}

func (e *IndexError) Error() string {
	return fmt.Sprintf("nn: layer %q (Embedding): input %d, sample %d, position %d: value %g is not an id in [0, %d) (ids are truncated toward zero)",
		e.Layer, e.Input, e.Sample, e.Position, e.Value, e.InputDim)
}

// Reason is the error without its location (layer, input, sample), for a
// caller that reports the location its own way.
func (e *IndexError) Reason() string {
	return fmt.Sprintf("value %g at position %d is not an id of Embedding layer %q: want a finite value in [0, %d) (truncated toward zero)",
		e.Value, e.Position, e.Layer, e.InputDim)
}

// EmbeddingMaskZero is Embedding with mask_zero=True: it also computes
// Keras's mask, input != 0 on the raw value (so 0.5 is kept, though it reads
// row 0), one value per time step of its (T,) input, which the layers after
// it follow as they follow a Masking layer's (nn/masking.go): recurrent
// layers skip masked steps. Its input must be (T,): Keras's mask has the
// input's shape, and seqcast's masks are one value per time step.
type EmbeddingMaskZero struct {
	Embedding
}

// Build is Embedding's, for a (T,) input only.
func (l *EmbeddingMaskZero) Build(in []Shape) (Shape, error) {
	if len(in) == 1 && len(in[0]) != 1 {
		return nil, errorf(l, "mask_zero=true needs a (timesteps,) input, got %v: seqcast's masks hold one value per time step", in[0])
	}
	return l.Embedding.Build(in)
}

// maskSteps is the number of mask values per sample: the input's steps.
func (l *EmbeddingMaskZero) maskSteps() int { return l.size }

// forwardMask is Forward that also writes the mask (n*T values, 1 where the
// id is not 0) when mask is not nil.
func (l *EmbeddingMaskZero) forwardMask(out, mask []float32, ins [][]float32, n int) {
	l.Forward(out, ins, n, nil)
	if mask == nil {
		return
	}
	for i, v := range ins[0][:n*l.size] {
		mask[i] = 0
		if v != 0 {
			mask[i] = 1
		}
	}
}

// idCheck is one Embedding that reads model input Input.
type idCheck struct {
	layer *Embedding
	input int
}

// planIDChecks lists every Embedding with the model input it reads, and
// refuses one fed by another layer (its ids could not be checked before the
// pass).
func (m *Model) planIDChecks() error {
	m.idChecks = nil
	for _, nd := range m.nodes {
		var e *Embedding
		switch l := nd.Layer.(type) {
		case *Embedding:
			e = l
		case *EmbeddingMaskZero:
			e = &l.Embedding
		default:
			continue
		}
		if k := nd.Inputs[0]; k >= 0 {
			return errorf(nd.Layer, "reads the output of layer %q: seqcast runs an Embedding only on a model input (its ids are checked before the pass)",
				m.nodes[k].Layer.Name())
		}
		m.idChecks = append(m.idChecks, idCheck{layer: e, input: InputIndex(nd.Inputs[0])})
	}
	return nil
}

// checkIDs checks the ids of every Embedding in n samples; x is the single
// input of Forward (xs nil) or xs every input of ForwardMulti.
func (m *Model) checkIDs(x []float32, xs [][]float32, n int) error {
	for _, c := range m.idChecks {
		in := x
		if xs != nil {
			in = xs[c.input]
		}
		if err := c.layer.CheckIDs(in, n, c.input); err != nil {
			return err
		}
	}
	return nil
}

// CheckIDs checks the ids of every Embedding of a single-input model in n
// samples of x, as Forward does first: a caller that queues or merges
// samples before Forward (a batcher) refuses a bad id early with the same
// *IndexError. It checks nothing when x does not hold n samples (Forward
// reports that).
func (m *Model) CheckIDs(x []float32, n int) error {
	if len(m.idChecks) == 0 || n <= 0 || len(x) != n*m.input.Size() {
		return nil
	}
	return m.checkIDs(x, nil, n)
}
