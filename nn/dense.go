package nn

// Dense is keras.layers.Dense: applied on the last axis, so a (T, F) input
// gives (T, Units), one product per time step. Weights: kernel (in, Units),
// then bias (Units) when UseBias.
type Dense struct {
	LayerName  string
	Units      int
	UseBias    bool
	Activation Activation
}

// TimeDistributed is keras.layers.TimeDistributed: Inner is applied to each
// step of a (T, ...) input independently. Its weights are Inner's.
type TimeDistributed struct {
	LayerName string
	Inner     Layer
}

// Class returns "Dense".
func (l *Dense) Class() string                   { return "Dense" }
func (l *Dense) Name() string                    { return l.LayerName }
func (l *Dense) Build(in []Shape) (Shape, error) { panic("TODO(nn): Dense.Build") }
func (l *Dense) Weights() []*Param               { return nil }
func (l *Dense) Prepare() error                  { return nil }
func (l *Dense) ScratchSize(n int) int           { return 0 }
func (l *Dense) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	panic("TODO(nn): Dense.Forward")
}

// Class returns "TimeDistributed".
func (l *TimeDistributed) Class() string                   { return "TimeDistributed" }
func (l *TimeDistributed) Name() string                    { return l.LayerName }
func (l *TimeDistributed) Build(in []Shape) (Shape, error) { panic("TODO(nn): TimeDistributed.Build") }
func (l *TimeDistributed) Weights() []*Param               { return nil }
func (l *TimeDistributed) Prepare() error                  { return nil }
func (l *TimeDistributed) ScratchSize(n int) int           { return 0 }
func (l *TimeDistributed) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	panic("TODO(nn): TimeDistributed.Forward")
}
