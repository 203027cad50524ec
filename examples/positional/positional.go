package positional

import (
	"fmt"
	"math"

	"github.com/seqcast/seqcast/kerasconfig"
	"github.com/seqcast/seqcast/nn"
)

// Encoding adds a fixed sinusoidal table to its (time steps, d_model)
// input. It implements nn.Layer.
type Encoding struct {
	name           string
	seqLen, dModel int       // from the config
	table          []float32 // (time steps, d_model), made in Build
}

// Build makes an Encoding from its Keras config: sequence_len and d_model,
// both required positive integers (every other option, such as trainable
// or dtype, is the built-in table's business or ignored).
func Build(c *kerasconfig.LayerConfig) (nn.Layer, error) {
	seqLen, err := c.Positive("sequence_len", kerasconfig.Required)
	if err != nil {
		return nil, err
	}
	dModel, err := c.Positive("d_model", kerasconfig.Required)
	if err != nil {
		return nil, err
	}
	return &Encoding{name: c.Name(), seqLen: seqLen, dModel: dModel}, nil
}

// Name is the layer's Keras name.
func (l *Encoding) Name() string { return l.name }

// Class is the Keras class name the file stores.
func (l *Encoding) Class() string { return "PositionalEncoding" }

// Build checks the input, (time steps <= sequence_len, d_model), and makes
// the table: computed in float64, then rounded to float32 as the Python
// layer's cast does. The output has the input's shape.
func (l *Encoding) Build(in []nn.Shape) (nn.Shape, error) {
	if len(in) != 1 || len(in[0]) != 2 || in[0][0] > l.seqLen || in[0][1] != l.dModel {
		return nil, fmt.Errorf("layer %q (PositionalEncoding): input %v: want one (time steps <= %d, %d) input",
			l.name, in, l.seqLen, l.dModel)
	}
	t := in[0][0]
	l.table = make([]float32, t*l.dModel)
	for i, v := range Table(t, l.dModel) {
		l.table[i] = float32(v)
	}
	return in[0].Clone(), nil
}

// Weights is nil: the table is fixed.
func (l *Encoding) Weights() []*nn.Param { return nil }

// Prepare has nothing to do.
func (l *Encoding) Prepare() error { return nil }

// ScratchSize is 0: Forward needs no scratch.
func (l *Encoding) ScratchSize(n int) int { return 0 }

// Forward adds the table to each of the n samples, without allocating.
func (l *Encoding) Forward(out []float32, ins [][]float32, n int, _ []float32) {
	size := len(l.table)
	for s := range n {
		o, x := out[s*size:(s+1)*size], ins[0][s*size:(s+1)*size]
		for i, v := range l.table {
			o[i] = x[i] + v
		}
	}
}

// Table is the sinusoidal table in float64, t rows of d channels: for
// position p and channel i, angle = p / 10000^(2*floor(i/2)/d), and the
// value is sin(angle) for even i, cos(angle) for odd i.
func Table(t, d int) []float64 {
	tab := make([]float64, t*d)
	for p := range t {
		for i := range d {
			a := float64(p) / math.Pow(10000, float64(2*(i/2))/float64(d))
			if i%2 == 0 {
				tab[p*d+i] = math.Sin(a)
			} else {
				tab[p*d+i] = math.Cos(a)
			}
		}
	}
	return tab
}
