package nn

import "fmt"

// Masking is keras.layers.Masking: a time step whose features all equal
// MaskValue is masked. The layer's output is its input with masked steps
// set to zero (x times the 0/1 mask, as Keras computes it), and the mask
// travels with the output to the layers Keras would hand it to (see
// MaskRule): a recurrent layer skips masked steps.
//
// The input is (T, F); the mask is one value per sample and time step, 1
// for a kept step and 0 for a masked one.
//
// Keras 2 (backend.rnn) and Keras 3 (the backends' rnn) agree: a masked
// step keeps the states; its output is the previous output (zeros before
// the first kept step), or zeros when the layer has zero_output_for_mask,
// which Bidirectional sets to return_sequences on both directions; without
// return_sequences the output is the last step's, so the last kept state
// (zeros with zero_output_for_mask when the last step is masked). TF.js
// differs inside Bidirectional (previous outputs), which the golden
// generator corrects (tools/golden/README.md).
type Masking struct {
	LayerName string
	MaskValue float32

	steps, feat int
}

// Class returns "Masking".
func (l *Masking) Class() string { return "Masking" }

// Name is the Keras layer name.
func (l *Masking) Name() string { return l.LayerName }

// Build accepts a (T, F) input and returns its shape.
func (l *Masking) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	if len(in[0]) != 2 {
		return nil, errorf(l, "input must be 3-D (None, timesteps, features), got %v", in[0])
	}
	l.steps, l.feat = in[0][0], in[0][1]
	return in[0].Clone(), nil
}

// Weights returns nil.
func (l *Masking) Weights() []*Param { return nil }

// Prepare does nothing.
func (l *Masking) Prepare() error { return nil }

// ScratchSize is 0.
func (l *Masking) ScratchSize(n int) int { return 0 }

// Forward zeroes the masked steps.
func (l *Masking) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	l.forwardMask(out, nil, ins, n)
}

// maskSteps is the number of mask values per sample.
func (l *Masking) maskSteps() int { return l.steps }

// forwardMask is Forward that also writes the mask (n*T values) when mask
// is not nil.
func (l *Masking) forwardMask(out, mask []float32, ins [][]float32, n int) {
	x, F := ins[0], l.feat
	for r := 0; r < n*l.steps; r++ {
		row := x[r*F : (r+1)*F]
		keep := false
		for _, v := range row {
			if v != l.MaskValue {
				keep = true
				break
			}
		}
		o := out[r*F : (r+1)*F]
		if keep {
			copy(o, row)
		} else {
			for j, v := range row {
				o[j] = v * 0 // Keras multiplies by the mask: -x*0 is -0
			}
		}
		if mask != nil {
			mask[r] = 0
			if keep {
				mask[r] = 1
			}
		}
	}
}

// maskProducer is a layer that computes a new mask (Masking).
type maskProducer interface {
	maskSteps() int
	forwardMask(out, mask []float32, ins [][]float32, n int)
}

// MaskedLayer is a layer that reads the mask of its input: the recurrent
// layers. mask holds n*T values (1 kept, 0 masked) in time order.
type MaskedLayer interface {
	Layer
	ForwardMasked(out []float32, ins [][]float32, mask []float32, n int, scratch []float32)
}

// MaskRule is what a layer does with a mask on its inputs, as Keras's
// supports_masking and compute_mask decide.
type MaskRule int

const (
	// MaskRefused: Keras would use the mask in a way seqcast does not
	// implement (GlobalAveragePooling1D averages only kept steps, a
	// concatenation along time concatenates masks, ...), or seqcast does
	// not know what the layer does with one. The model is refused.
	MaskRefused MaskRule = iota
	// MaskDropped: the layer does not support masking. Keras 2.4+ and
	// Keras 3 drop the mask there (Keras 3 warns); Keras before 2.4 raised
	// when the model was built. Model.MaskDrops lists these layers.
	MaskDropped
	// MaskPassed: the layer computes the same thing with or without a mask
	// and hands it on unchanged (Dropout, Activation, Dense, ...). For a
	// merge, the masks of its inputs are combined (seqcast supports one
	// mask source per merge).
	MaskPassed
	// MaskConsumed: the layer reads the mask (MaskedLayer); its output
	// carries the mask only when it is a sequence (return_sequences).
	MaskConsumed
)

// MaskRuler lets a layer outside this package say what it does with a
// mask; a layer that neither implements it nor is known here is refused
// when a mask reaches it.
type MaskRuler interface {
	MaskRule() MaskRule
}

// maskRuleOf is Keras's masking behaviour of each layer class of package
// nn (supports_masking in Keras 2 and Keras 3 alike).
func maskRuleOf(l Layer, in []Shape) (MaskRule, string) {
	switch l := l.(type) {
	case MaskRuler:
		return l.MaskRule(), ""
	case *LSTM, *GRU, *SimpleRNN, *Bidirectional:
		return MaskConsumed, ""
	case *Dense, *Identity, *ActivationLayer, *ReLU, *LeakyReLU, *ELU, *PReLU,
		*LayerNormalization, *BatchNormalization:
		return MaskPassed, ""
	case *TimeDistributed:
		if r, why := maskRuleOf(l.Inner, nil); r != MaskPassed {
			return MaskRefused, fmt.Sprintf("its inner layer %q (%s) does not pass a mask on%s", l.Inner.Name(), l.Inner.Class(), why)
		}
		return MaskPassed, ""
	case *Merge:
		if l.Op == Concatenate && len(in) > 0 {
			r := len(in[0])
			if l.Axis != -1 && l.Axis != r {
				return MaskRefused, "Keras concatenates the masks along a concatenation axis other than the last, which seqcast does not implement"
			}
		}
		return MaskPassed, ""
	case *GlobalPooling1D:
		if l.Kind == AvgPool {
			return MaskRefused, "Keras averages only the unmasked steps there, which seqcast does not implement"
		}
		return MaskDropped, ""
	case *Conv1D, *Pooling1D, *Flatten, *Reshape, *RepeatVector, *Permute,
		*ZeroPadding1D, *Cropping1D, *UpSampling1D, *Conv1DTranspose:
		return MaskDropped, ""
	}
	return MaskRefused, "seqcast does not know what this class does with a mask"
}

// MaskDrop is a layer that a mask reaches but that does not support masking
// (MaskDropped): Keras 2.4+ and 3 drop the mask there, Keras before 2.4
// raised "does not support masking" when the model was built.
type MaskDrop struct {
	Node   int    // the layer's node index
	Source string // the Masking layer whose mask it is
}

// planMasks decides, for every node, which Masking node's mask its output
// carries (-1 for none) and which mask its input carries, and refuses the
// graphs Keras would compute with a mask in ways seqcast does not.
func (m *Model) planMasks(in [][]Shape) error {
	count := len(m.nodes)
	m.maskOut = make([]int, count)
	m.maskIn = make([]int, count)
	m.maskDrops = nil
	for i, nd := range m.nodes {
		m.maskOut[i], m.maskIn[i] = -1, -1
		if _, ok := nd.Layer.(maskProducer); ok {
			m.maskOut[i] = i
			m.hasMask = true
			continue
		}
		src := -1
		for _, k := range nd.Inputs {
			if k < 0 || m.maskOut[k] < 0 {
				continue
			}
			if src >= 0 && m.maskOut[k] != src {
				return errorf(nd.Layer, "receives the masks of two Masking layers (%q and %q): seqcast supports one mask per layer",
					m.nodes[src].Layer.Name(), m.nodes[m.maskOut[k]].Layer.Name())
			}
			src = m.maskOut[k]
		}
		if src < 0 {
			continue
		}
		rule, why := maskRuleOf(nd.Layer, in[i])
		srcName := m.nodes[src].Layer.Name()
		switch rule {
		case MaskRefused:
			return errorf(nd.Layer, "receives the mask of Masking layer %q: %s (a mask may pass through Dropout-like, Activation, Dense, "+
				"normalization and merge layers into LSTM, GRU, SimpleRNN and Bidirectional)", srcName, why)
		case MaskDropped:
			m.maskDrops = append(m.maskDrops, MaskDrop{Node: i, Source: srcName})
		case MaskPassed:
			if len(m.shapes[i]) < 1 || m.shapes[i][0] != m.nodes[src].Layer.(maskProducer).maskSteps() {
				return errorf(nd.Layer, "passes on the mask of Masking layer %q but its output %v has not its %d time steps",
					srcName, m.shapes[i], m.nodes[src].Layer.(maskProducer).maskSteps())
			}
			m.maskOut[i] = src
		case MaskConsumed:
			ml, ok := nd.Layer.(MaskedLayer)
			if !ok || len(in[i]) != 1 || len(in[i][0]) != 2 || in[i][0][0] != m.nodes[src].Layer.(maskProducer).maskSteps() {
				return errorf(nd.Layer, "cannot read the mask of Masking layer %q", srcName)
			}
			m.maskIn[i] = src
			if len(m.shapes[i]) == 2 && m.shapes[i][0] == in[i][0][0] && returnsSequences(ml) {
				m.maskOut[i] = src
			}
		}
	}
	return nil
}

// returnsSequences reports whether a recurrent layer returns sequences.
func returnsSequences(l Layer) bool {
	switch l := l.(type) {
	case recurrent:
		_, seq, _ := l.config()
		return seq
	case *Bidirectional:
		if l.fwd == nil {
			return false
		}
		_, seq, _ := l.fwd.config()
		return seq
	}
	return false
}

// MaskDrops lists the layers a mask reaches that do not support masking
// (see MaskDropped), in node order. A loader refuses the model when the
// Keras version that saved it raised there.
func (m *Model) MaskDrops() []MaskDrop { return append([]MaskDrop(nil), m.maskDrops...) }

// MaskConsumers lists the nodes that read a mask, in node order.
func (m *Model) MaskConsumers() []int {
	var out []int
	for i, k := range m.maskIn {
		if k >= 0 {
			out = append(out, i)
		}
	}
	return out
}
