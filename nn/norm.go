package nn

// BatchNormalization is keras.layers.BatchNormalization at inference:
// (x - moving_mean) / sqrt(moving_variance + Epsilon) * gamma + beta over the
// last axis. Weights, in Keras order: gamma (if Scale), beta (if Center),
// moving_mean, moving_variance; each of the last axis's length.
type BatchNormalization struct {
	LayerName string
	Axis      int // only the last axis (-1, or rank) is supported
	Epsilon   float32
	Center    bool
	Scale     bool
}

// LayerNormalization is keras.layers.LayerNormalization over the last axis.
// Weights: gamma (if Scale), beta (if Center).
type LayerNormalization struct {
	LayerName string
	Axis      int // only the last axis
	Epsilon   float32
	Center    bool
	Scale     bool
}

// Class returns "BatchNormalization".
func (l *BatchNormalization) Class() string { return "BatchNormalization" }
func (l *BatchNormalization) Name() string  { return l.LayerName }
func (l *BatchNormalization) Build(in []Shape) (Shape, error) {
	panic("TODO(nn): BatchNormalization.Build")
}
func (l *BatchNormalization) Weights() []*Param     { return nil }
func (l *BatchNormalization) Prepare() error        { return nil }
func (l *BatchNormalization) ScratchSize(n int) int { return 0 }
func (l *BatchNormalization) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	panic("TODO(nn): BatchNormalization.Forward")
}

// Class returns "LayerNormalization".
func (l *LayerNormalization) Class() string { return "LayerNormalization" }
func (l *LayerNormalization) Name() string  { return l.LayerName }
func (l *LayerNormalization) Build(in []Shape) (Shape, error) {
	panic("TODO(nn): LayerNormalization.Build")
}
func (l *LayerNormalization) Weights() []*Param     { return nil }
func (l *LayerNormalization) Prepare() error        { return nil }
func (l *LayerNormalization) ScratchSize(n int) int { return 0 }
func (l *LayerNormalization) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	panic("TODO(nn): LayerNormalization.Forward")
}
