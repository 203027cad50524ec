package nn

// Flatten is keras.layers.Flatten.
type Flatten struct{ LayerName string }

// Reshape is keras.layers.Reshape; one dimension of Target may be -1.
type Reshape struct {
	LayerName string
	Target    []int
}

// RepeatVector is keras.layers.RepeatVector: (F) -> (N, F).
type RepeatVector struct {
	LayerName string
	N         int
}

// Identity stands for every layer that does nothing at inference: Dropout,
// SpatialDropout1D, GaussianNoise, GaussianDropout, ActivityRegularization.
// ClassName is the Keras class it stands for.
type Identity struct {
	LayerName string
	ClassName string
}

// Class returns "Flatten".
func (l *Flatten) Class() string                   { return "Flatten" }
func (l *Flatten) Name() string                    { return l.LayerName }
func (l *Flatten) Build(in []Shape) (Shape, error) { panic("TODO(nn): Flatten.Build") }
func (l *Flatten) Weights() []*Param               { return nil }
func (l *Flatten) Prepare() error                  { return nil }
func (l *Flatten) ScratchSize(n int) int           { return 0 }
func (l *Flatten) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	panic("TODO(nn): Flatten.Forward")
}

// Class returns "Reshape".
func (l *Reshape) Class() string                   { return "Reshape" }
func (l *Reshape) Name() string                    { return l.LayerName }
func (l *Reshape) Build(in []Shape) (Shape, error) { panic("TODO(nn): Reshape.Build") }
func (l *Reshape) Weights() []*Param               { return nil }
func (l *Reshape) Prepare() error                  { return nil }
func (l *Reshape) ScratchSize(n int) int           { return 0 }
func (l *Reshape) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	panic("TODO(nn): Reshape.Forward")
}

// Class returns "RepeatVector".
func (l *RepeatVector) Class() string                   { return "RepeatVector" }
func (l *RepeatVector) Name() string                    { return l.LayerName }
func (l *RepeatVector) Build(in []Shape) (Shape, error) { panic("TODO(nn): RepeatVector.Build") }
func (l *RepeatVector) Weights() []*Param               { return nil }
func (l *RepeatVector) Prepare() error                  { return nil }
func (l *RepeatVector) ScratchSize(n int) int           { return 0 }
func (l *RepeatVector) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	panic("TODO(nn): RepeatVector.Forward")
}

// Class returns the Keras class it stands for.
func (l *Identity) Class() string                   { return l.ClassName }
func (l *Identity) Name() string                    { return l.LayerName }
func (l *Identity) Build(in []Shape) (Shape, error) { panic("TODO(nn): Identity.Build") }
func (l *Identity) Weights() []*Param               { return nil }
func (l *Identity) Prepare() error                  { return nil }
func (l *Identity) ScratchSize(n int) int           { return 0 }
func (l *Identity) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	panic("TODO(nn): Identity.Forward")
}
