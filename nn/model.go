package nn

import (
	"errors"
	"fmt"
	"sync"
)

// Input is the index a Node uses to name the model's input tensor.
const Input = -1

// Node places a layer in a model graph. Inputs are indices of earlier nodes
// in the same slice, or Input for the model's input tensor; a merge layer
// (Concatenate, Add, ...) has several.
type Node struct {
	Layer  Layer
	Inputs []int
}

// Model is a built graph of layers with a single input and a single output
// (the last node). It is safe for concurrent use once its weights are set.
type Model struct {
	name     string
	input    Shape
	nodes    []Node
	shapes   []Shape // output shape of each node
	prepared bool

	// Masks (masking.go): the Masking node whose mask a node's output
	// carries, and the one a MaskedLayer node reads; -1 for none.
	maskOut, maskIn []int
	maskDrops       []MaskDrop
	hasMask         bool

	mu   sync.Mutex
	free []*workspace // idle workspaces; a sync.Pool would drop them at every GC
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

// NewModel builds a graph. Nodes must be in topological order (every input
// index smaller than the node's own); the last node is the output.
func NewModel(name string, input Shape, nodes []Node) (*Model, error) {
	if len(nodes) == 0 {
		return nil, errors.New("nn: model has no layers")
	}
	for _, d := range input {
		if d <= 0 {
			return nil, fmt.Errorf("nn: model input shape %v: every dimension must be fixed and positive", []int(input))
		}
	}
	m := &Model{name: name, input: input.Clone(), nodes: nodes, shapes: make([]Shape, len(nodes))}
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
			case k == Input:
				in[j] = m.input
			case k >= 0 && k < i:
				in[j] = m.shapes[k]
			default:
				return nil, errorf(nd.Layer, "inbound node %d is not an earlier node", k)
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
	return m, nil
}

// Name is the model's name.
func (m *Model) Name() string { return m.name }

// InputShape is the per-sample input shape.
func (m *Model) InputShape() Shape { return m.input.Clone() }

// OutputShape is the per-sample output shape.
func (m *Model) OutputShape() Shape { return m.shapes[len(m.shapes)-1].Clone() }

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

// workspace holds one forward pass's buffers: each node's output and the
// largest scratch any layer asks for. It grows to the largest batch seen.
type workspace struct {
	n       int
	outs    [][]float32
	scratch []float32
	ins     [][]float32
	masks   [][]float32 // per Masking node: n*T mask values
}

func (m *Model) getWorkspace(n int) *workspace {
	m.mu.Lock()
	var ws *workspace
	if k := len(m.free); k > 0 {
		ws, m.free = m.free[k-1], m.free[:k-1]
	}
	m.mu.Unlock()
	if ws == nil {
		ws = new(workspace)
	}
	if ws.n < n {
		ws.outs = make([][]float32, len(m.nodes))
		maxScratch, maxIns := 0, 0
		for i, nd := range m.nodes {
			if i < len(m.nodes)-1 {
				ws.outs[i] = make([]float32, n*m.shapes[i].Size())
			}
			maxScratch = max(maxScratch, nd.Layer.ScratchSize(n))
			maxIns = max(maxIns, len(nd.Inputs))
		}
		ws.scratch = make([]float32, maxScratch)
		if m.hasMask {
			ws.masks = make([][]float32, len(m.nodes))
			for i, nd := range m.nodes {
				if p, ok := nd.Layer.(maskProducer); ok {
					ws.masks[i] = make([]float32, n*p.maskSteps())
				}
			}
		}
		ws.ins = make([][]float32, maxIns)
		ws.n = n
	}
	return ws
}

func (m *Model) putWorkspace(ws *workspace) {
	clear(ws.ins)
	m.mu.Lock()
	m.free = append(m.free, ws)
	m.mu.Unlock()
}

// Forward runs n samples: x holds n*InputShape().Size() values and dst
// receives n*OutputShape().Size(). Batches larger than 64 samples run in
// chunks of 64. At steady state it allocates nothing.
func (m *Model) Forward(dst, x []float32, n int) error {
	if !m.prepared {
		return fmt.Errorf("nn: model %q: weights not set", m.name)
	}
	if n <= 0 {
		return fmt.Errorf("nn: batch size must be positive, got %d", n)
	}
	if want := n * m.input.Size(); len(x) != want {
		return fmt.Errorf("nn: input has %d values, want %d for %d samples of shape %v", len(x), want, n, []int(m.input))
	}
	last := len(m.nodes) - 1
	if want := n * m.shapes[last].Size(); len(dst) != want {
		return fmt.Errorf("nn: output has room for %d values, want %d for %d samples of shape %v", len(dst), want, n, []int(m.shapes[last]))
	}
	inSize, outSize := m.input.Size(), m.shapes[last].Size()
	ws := m.getWorkspace(min(n, chunk))
	for i := 0; i < n; i += chunk {
		c := min(chunk, n-i)
		m.forward(ws, dst[i*outSize:(i+c)*outSize], x[i*inSize:(i+c)*inSize], c)
	}
	m.putWorkspace(ws)
	return nil
}

// forward runs one chunk of n samples through the graph.
func (m *Model) forward(ws *workspace, dst, x []float32, n int) {
	last := len(m.nodes) - 1
	for i, nd := range m.nodes {
		ins := ws.ins[:len(nd.Inputs)]
		for j, k := range nd.Inputs {
			if k == Input {
				ins[j] = x
			} else {
				ins[j] = ws.outs[k][:n*m.shapes[k].Size()]
			}
		}
		out := dst
		if i != last {
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
	dst := make([]float32, n*m.shapes[len(m.shapes)-1].Size())
	if err := m.Forward(dst, x, n); err != nil {
		return nil, err
	}
	return dst, nil
}
