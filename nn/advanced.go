package nn

// ActivationLayer is keras.layers.Activation.
type ActivationLayer struct {
	LayerName  string
	Activation Activation
}

// ReLU is keras.layers.ReLU: x >= Threshold ? x : NegativeSlope*(x-Threshold),
// capped at MaxValue when HasMax.
type ReLU struct {
	LayerName     string
	MaxValue      float32
	HasMax        bool
	NegativeSlope float32
	Threshold     float32
}

// LeakyReLU is keras.layers.LeakyReLU (alpha in Keras 2, negative_slope in
// Keras 3; default 0.3).
type LeakyReLU struct {
	LayerName string
	Alpha     float32
}

// ELU is keras.layers.ELU (alpha default 1).
type ELU struct {
	LayerName string
	Alpha     float32
}

// PReLU is keras.layers.PReLU. Weight: alpha, of the input's per-sample shape
// with every axis in SharedAxes (1-based, as Keras numbers them with the
// batch axis as 0) set to 1.
type PReLU struct {
	LayerName  string
	SharedAxes []int
}

// Class returns "Activation".
func (l *ActivationLayer) Class() string                   { return "Activation" }
func (l *ActivationLayer) Name() string                    { return l.LayerName }
func (l *ActivationLayer) Build(in []Shape) (Shape, error) { panic("TODO(nn): ActivationLayer.Build") }
func (l *ActivationLayer) Weights() []*Param               { return nil }
func (l *ActivationLayer) Prepare() error                  { return nil }
func (l *ActivationLayer) ScratchSize(n int) int           { return 0 }
func (l *ActivationLayer) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	panic("TODO(nn): ActivationLayer.Forward")
}

// Class returns "ReLU".
func (l *ReLU) Class() string                   { return "ReLU" }
func (l *ReLU) Name() string                    { return l.LayerName }
func (l *ReLU) Build(in []Shape) (Shape, error) { panic("TODO(nn): ReLU.Build") }
func (l *ReLU) Weights() []*Param               { return nil }
func (l *ReLU) Prepare() error                  { return nil }
func (l *ReLU) ScratchSize(n int) int           { return 0 }
func (l *ReLU) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	panic("TODO(nn): ReLU.Forward")
}

// Class returns "LeakyReLU".
func (l *LeakyReLU) Class() string                   { return "LeakyReLU" }
func (l *LeakyReLU) Name() string                    { return l.LayerName }
func (l *LeakyReLU) Build(in []Shape) (Shape, error) { panic("TODO(nn): LeakyReLU.Build") }
func (l *LeakyReLU) Weights() []*Param               { return nil }
func (l *LeakyReLU) Prepare() error                  { return nil }
func (l *LeakyReLU) ScratchSize(n int) int           { return 0 }
func (l *LeakyReLU) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	panic("TODO(nn): LeakyReLU.Forward")
}

// Class returns "ELU".
func (l *ELU) Class() string                   { return "ELU" }
func (l *ELU) Name() string                    { return l.LayerName }
func (l *ELU) Build(in []Shape) (Shape, error) { panic("TODO(nn): ELU.Build") }
func (l *ELU) Weights() []*Param               { return nil }
func (l *ELU) Prepare() error                  { return nil }
func (l *ELU) ScratchSize(n int) int           { return 0 }
func (l *ELU) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	panic("TODO(nn): ELU.Forward")
}

// Class returns "PReLU".
func (l *PReLU) Class() string                   { return "PReLU" }
func (l *PReLU) Name() string                    { return l.LayerName }
func (l *PReLU) Build(in []Shape) (Shape, error) { panic("TODO(nn): PReLU.Build") }
func (l *PReLU) Weights() []*Param               { return nil }
func (l *PReLU) Prepare() error                  { return nil }
func (l *PReLU) ScratchSize(n int) int           { return 0 }
func (l *PReLU) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	panic("TODO(nn): PReLU.Forward")
}
