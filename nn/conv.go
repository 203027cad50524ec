package nn

// Conv1D is keras.layers.Conv1D (channels_last, groups=1). Weights: kernel
// (KernelSize, in_channels, Filters), then bias (Filters) when UseBias.
type Conv1D struct {
	LayerName    string
	Filters      int
	KernelSize   int
	Strides      int
	DilationRate int
	Padding      string // "valid", "same" or "causal"
	UseBias      bool
	Activation   Activation
}

// Class returns "Conv1D".
func (l *Conv1D) Class() string                   { return "Conv1D" }
func (l *Conv1D) Name() string                    { return l.LayerName }
func (l *Conv1D) Build(in []Shape) (Shape, error) { panic("TODO(nn): Conv1D.Build") }
func (l *Conv1D) Weights() []*Param               { return nil }
func (l *Conv1D) Prepare() error                  { return nil }
func (l *Conv1D) ScratchSize(n int) int           { return 0 }
func (l *Conv1D) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	panic("TODO(nn): Conv1D.Forward")
}
