package nn

import (
	"errors"
	"fmt"
	"slices"
)

// Input is the index a Node uses to name the model's (first) input tensor.
const Input = -1

// InputAt is the index a Node uses to name the model's j-th input tensor
// (InputAt(0) == Input). Every negative index names a model input.
func InputAt(j int) int { return -1 - j }

// InputIndex is the model input a negative node index names (the inverse of
// InputAt).
func InputIndex(k int) int { return -1 - k }

// Node places a layer in a model graph. Inputs are indices of earlier nodes
// in the same slice, or InputAt(j) for the model's j-th input tensor; a
// merge layer (Concatenate, Add, ...) has several.
type Node struct {
	Layer  Layer
	Inputs []int
}

// Model is a built graph of layers. Most models have a single input and a
// single output (the last node); a functional graph may have several of each
// (NewGraph), run through ForwardMulti. It is safe for concurrent use once
// its weights are set.
type Model struct {
	name     string
	input    Shape   // inputs[0]
	inputs   []Shape // every model input's per-sample shape
	outputs  []int   // the node index of each model output
	direct   bool    // a single output, the last node: it writes into dst
	nodes    []Node
	shapes   []Shape // output shape of each node
	prepared bool

	// Masks (masking.go): the Masking node whose mask a node's output
	// carries, and the one a MaskedLayer node reads; -1 for none.
	maskOut, maskIn []int
	maskDrops       []MaskDrop
	hasMask         bool

	idChecks []idCheck // every Embedding and the input it reads (embedding.go)

	pool wsPool // idle workspaces (workspace.go)
}

// chunk is the most samples one pass through the graph carries. Larger
// batches run in chunks of this size so that every layer's output stays in
// cache (at 1000 samples the gold model's Conv1D output alone is 7 MiB) and a
// workspace stays small whatever the batch.
const chunk = 64

// WeightRef names one array of a model's weights, in get_weights() order.
type WeightRef struct {
	Layer string // the owning layer's name
	Class string // the owning layer's class
	*Param
}

// NewSequential builds a chain of layers fed by an input of the given
// per-sample shape.
func NewSequential(name string, input Shape, layers ...Layer) (*Model, error) {
	nodes := make([]Node, len(layers))
	for i, l := range layers {
		nodes[i] = Node{Layer: l, Inputs: []int{i - 1}}
	}
	return NewModel(name, input, nodes)
}

// NewModel builds a graph with one input and one output. Nodes must be in
// topological order (every input index smaller than the node's own); the
// last node is the output.
func NewModel(name string, input Shape, nodes []Node) (*Model, error) {
	return NewGraph(name, []Shape{input}, nodes, []int{len(nodes) - 1})
}

// NewGraph builds a graph with several inputs and outputs: nodes name the
// j-th input InputAt(j), and outputs lists the node index of each model
// output, in the model's order (a node may be an output and feed later
// nodes; two outputs may name the same node).
func NewGraph(name string, inputs []Shape, nodes []Node, outputs []int) (*Model, error) {
	if len(nodes) == 0 {
		return nil, errors.New("nn: model has no layers")
	}
	if len(inputs) == 0 {
		return nil, errors.New("nn: model has no input")
	}
	if len(outputs) == 0 {
		return nil, errors.New("nn: model has no output")
	}
	for _, input := range inputs {
		for _, d := range input {
			if d <= 0 {
				return nil, fmt.Errorf("nn: model input shape %v: every dimension must be fixed and positive", []int(input))
			}
		}
	}
	for j, k := range outputs {
		if k < 0 || k >= len(nodes) {
			return nil, fmt.Errorf("nn: model output %d names node %d, not one of the %d nodes", j, k, len(nodes))
		}
	}
	m := &Model{name: name, nodes: nodes, shapes: make([]Shape, len(nodes)),
		outputs: slices.Clone(outputs), direct: len(outputs) == 1 && outputs[0] == len(nodes)-1}
	for _, input := range inputs {
		m.inputs = append(m.inputs, input.Clone())
	}
	m.input = m.inputs[0]
	ins := make([][]Shape, len(nodes))
	for i, nd := range nodes {
		if nd.Layer == nil {
			return nil, fmt.Errorf("nn: node %d has no layer", i)
		}
		if len(nd.Inputs) == 0 {
			return nil, errorf(nd.Layer, "no inbound tensor")
		}
		in := make([]Shape, len(nd.Inputs))
		for j, k := range nd.Inputs {
			switch {
			case k < 0 && InputIndex(k) < len(m.inputs):
				in[j] = m.inputs[InputIndex(k)]
			case k >= 0 && k < i:
				in[j] = m.shapes[k]
			default:
				return nil, errorf(nd.Layer, "inbound node %d is not an earlier node or one of the %d inputs", k, len(m.inputs))
			}
		}
		out, err := nd.Layer.Build(in)
		if err != nil {
			return nil, err
		}
		m.shapes[i] = out
		ins[i] = in
	}
	if err := m.planMasks(ins); err != nil {
		return nil, err
	}
	if err := m.planIDChecks(); err != nil {
		return nil, err
	}
	return m, nil
}

// Name is the model's name.
func (m *Model) Name() string { return m.name }

// InputShape is the per-sample input shape (the first input's, for a model
// with several: see InputShapes).
func (m *Model) InputShape() Shape { return m.input.Clone() }

// OutputShape is the per-sample output shape (the first output's, for a
// model with several: see OutputShapes).
func (m *Model) OutputShape() Shape { return m.shapes[m.outputs[0]].Clone() }

// MultiIO reports whether the model has more than one input or output; such
// a model runs through ForwardMulti, and Forward refuses it.
func (m *Model) MultiIO() bool { return len(m.inputs) != 1 || len(m.outputs) != 1 }

// InputShapes is the per-sample shape of every model input, in order.
func (m *Model) InputShapes() []Shape {
	out := make([]Shape, len(m.inputs))
	for i, s := range m.inputs {
		out[i] = s.Clone()
	}
	return out
}

// OutputShapes is the per-sample shape of every model output, in order.
func (m *Model) OutputShapes() []Shape {
	out := make([]Shape, len(m.outputs))
	for i, k := range m.outputs {
		out[i] = m.shapes[k].Clone()
	}
	return out
}

// OutputNodes is the node index of every model output, in order.
func (m *Model) OutputNodes() []int { return slices.Clone(m.outputs) }

// Nodes returns the graph; callers must not modify it.
func (m *Model) Nodes() []Node { return m.nodes }

// NodeShape is the output shape of node i.
func (m *Model) NodeShape(i int) Shape { return m.shapes[i].Clone() }

// Weights lists every weight array in Keras's get_weights() order: layer by
// layer, in node order, each layer's own order within.
func (m *Model) Weights() []WeightRef {
	var refs []WeightRef
	for _, nd := range m.nodes {
		for _, p := range nd.Layer.Weights() {
			refs = append(refs, WeightRef{Layer: nd.Layer.Name(), Class: nd.Layer.Class(), Param: p})
		}
	}
	return refs
}

// ParamCount is the model's total number of scalar parameters.
func (m *Model) ParamCount() int {
	n := 0
	for _, nd := range m.nodes {
		n += ParamCount(nd.Layer)
	}
	return n
}

// SetWeights assigns arrays in get_weights() order (the slices are kept, not
// copied) and prepares every layer. Each array must have exactly the number
// of values its Param's shape needs.
func (m *Model) SetWeights(arrays [][]float32) error {
	refs := m.Weights()
	if len(arrays) != len(refs) {
		return fmt.Errorf("nn: model %q needs %d weight arrays, got %d", m.name, len(refs), len(arrays))
	}
	for i, r := range refs {
		if len(arrays[i]) != r.Shape.Size() {
			return fmt.Errorf("nn: weight %d, layer %q %s: want %d values for shape %v, got %d",
				i, r.Layer, r.Name, r.Shape.Size(), []int(r.Shape), len(arrays[i]))
		}
		r.Value = arrays[i]
	}
	return m.Prepare()
}

// Prepare prepares every layer after its weights' values were set directly
// through Weights. SetWeights calls it.
func (m *Model) Prepare() error {
	for _, nd := range m.nodes {
		if err := nd.Layer.Prepare(); err != nil {
			return err
		}
	}
	m.prepared = true
	return nil
}

// ErrMultiIO is returned by Forward and Predict for a model with several
// inputs or outputs, which runs through ForwardMulti.
var ErrMultiIO = errors.New("the model has several inputs or outputs: run it through ForwardMulti")

// Forward runs n samples: x holds n*InputShape().Size() values and dst
// receives n*OutputShape().Size(). Batches larger than 64 samples run in
// chunks of 64. At steady state it allocates nothing. A model with several
// inputs or outputs is refused with ErrMultiIO.
func (m *Model) Forward(dst, x []float32, n int) error {
	if m.MultiIO() {
		return fmt.Errorf("nn: model %q with %d inputs and %d outputs: %w", m.name, len(m.inputs), len(m.outputs), ErrMultiIO)
	}
	if err := m.check(n); err != nil {
		return err
	}
	if want := n * m.input.Size(); len(x) != want {
		return fmt.Errorf("nn: input has %d values, want %d for %d samples of shape %v", len(x), want, n, []int(m.input))
	}
	out := m.shapes[m.outputs[0]]
	if want := n * out.Size(); len(dst) != want {
		return fmt.Errorf("nn: output has room for %d values, want %d for %d samples of shape %v", len(dst), want, n, []int(out))
	}
	if err := m.checkIDs(x, nil, n); err != nil {
		return err
	}
	inSize, outSize := m.input.Size(), out.Size()
	ws := m.getWorkspace(min(n, chunk))
	for i := 0; i < n; i += chunk {
		c := min(chunk, n-i)
		d := dst[i*outSize : (i+c)*outSize]
		m.forward(ws, d, x[i*inSize:(i+c)*inSize], nil, c)
		m.emit(ws, d, 0, c)
	}
	m.putWorkspace(ws)
	return nil
}

// ForwardMulti runs n samples through a model with any number of inputs and
// outputs: xs[j] holds n*InputShapes()[j].Size() values and dsts[j]
// receives n*OutputShapes()[j].Size(). Like Forward it runs in chunks of 64
// samples and allocates nothing at steady state.
func (m *Model) ForwardMulti(dsts, xs [][]float32, n int) error {
	if err := m.check(n); err != nil {
		return err
	}
	if len(xs) != len(m.inputs) {
		return fmt.Errorf("nn: model %q has %d input(s), got %d", m.name, len(m.inputs), len(xs))
	}
	if len(dsts) != len(m.outputs) {
		return fmt.Errorf("nn: model %q has %d output(s), got room for %d", m.name, len(m.outputs), len(dsts))
	}
	for j, in := range m.inputs {
		if want := n * in.Size(); len(xs[j]) != want {
			return fmt.Errorf("nn: input %d has %d values, want %d for %d samples of shape %v", j, len(xs[j]), want, n, []int(in))
		}
	}
	for j, k := range m.outputs {
		if want := n * m.shapes[k].Size(); len(dsts[j]) != want {
			return fmt.Errorf("nn: output %d has room for %d values, want %d for %d samples of shape %v", j, len(dsts[j]), want, n, []int(m.shapes[k]))
		}
	}
	if err := m.checkIDs(nil, xs, n); err != nil {
		return err
	}
	ws := m.getWorkspace(min(n, chunk))
	for i := 0; i < n; i += chunk {
		c := min(chunk, n-i)
		for j, in := range m.inputs {
			ws.xs[j] = xs[j][i*in.Size() : (i+c)*in.Size()]
		}
		var x, d []float32
		if len(m.inputs) == 1 {
			x = ws.xs[0]
		}
		if m.direct {
			size := m.shapes[m.outputs[0]].Size()
			d = dsts[0][i*size : (i+c)*size]
		}
		m.forward(ws, d, x, ws.xs, c)
		for j, k := range m.outputs {
			size := m.shapes[k].Size()
			m.emit(ws, dsts[j][i*size:(i+c)*size], j, c)
		}
	}
	m.putWorkspace(ws)
	return nil
}

func (m *Model) check(n int) error {
	if !m.prepared {
		return fmt.Errorf("nn: model %q: weights not set", m.name)
	}
	if n <= 0 {
		return fmt.Errorf("nn: batch size must be positive, got %d", n)
	}
	return nil
}

// emit copies output j of a chunk of n samples into dst, unless the last
// node wrote it there already.
func (m *Model) emit(ws *workspace, dst []float32, j, n int) {
	if m.direct {
		return
	}
	k := m.outputs[j]
	copy(dst, ws.outs[k][:n*m.shapes[k].Size()])
}

// forward runs one chunk of n samples through the graph. A single-input
// model passes its input as x; a model with several passes xs. When the
// model's only output is its last node (m.direct), dst receives it.
func (m *Model) forward(ws *workspace, dst, x []float32, xs [][]float32, n int) {
	last := len(m.nodes) - 1
	for i, nd := range m.nodes {
		ins := ws.ins[:len(nd.Inputs)]
		for j, k := range nd.Inputs {
			switch {
			case k >= 0:
				ins[j] = ws.outs[k][:n*m.shapes[k].Size()]
			case x != nil:
				ins[j] = x
			default:
				ins[j] = xs[InputIndex(k)]
			}
		}
		var out []float32
		if m.direct && i == last {
			out = dst
		} else {
			out = ws.outs[i][:n*m.shapes[i].Size()]
		}
		scratch := ws.scratch[:nd.Layer.ScratchSize(n)]
		switch {
		case !m.hasMask:
			nd.Layer.Forward(out, ins, n, scratch)
		case m.maskOut[i] == i:
			p := nd.Layer.(maskProducer)
			p.forwardMask(out, ws.masks[i][:n*p.maskSteps()], ins, n)
		case m.maskIn[i] >= 0:
			k := m.maskIn[i]
			mask := ws.masks[k][:n*m.nodes[k].Layer.(maskProducer).maskSteps()]
			nd.Layer.(MaskedLayer).ForwardMasked(out, ins, mask, n, scratch)
		default:
			nd.Layer.Forward(out, ins, n, scratch)
		}
	}
}

// Predict is Forward with a freshly allocated output.
func (m *Model) Predict(x []float32, n int) ([]float32, error) {
	if m.MultiIO() {
		return nil, fmt.Errorf("nn: model %q with %d inputs and %d outputs: %w", m.name, len(m.inputs), len(m.outputs), ErrMultiIO)
	}
	dst := make([]float32, n*m.shapes[m.outputs[0]].Size())
	if err := m.Forward(dst, x, n); err != nil {
		return nil, err
	}
	return dst, nil
}
