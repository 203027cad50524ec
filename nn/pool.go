package nn

// PoolKind selects max or average pooling.
type PoolKind int

const (
	MaxPool PoolKind = iota
	AvgPool
)

// Pooling1D is keras.layers.MaxPooling1D / AveragePooling1D (channels_last).
// Average pooling with "same" padding divides by the number of real
// (unpadded) elements in the window, as Keras does.
type Pooling1D struct {
	LayerName string
	Kind      PoolKind
	PoolSize  int
	Strides   int    // Keras's default is PoolSize
	Padding   string // "valid" or "same"
}

// GlobalPooling1D is keras.layers.GlobalMaxPooling1D / GlobalAveragePooling1D
// (channels_last): (T, C) -> (C), or (1, C) with KeepDims.
type GlobalPooling1D struct {
	LayerName string
	Kind      PoolKind
	KeepDims  bool
}

// Class returns "MaxPooling1D" or "AveragePooling1D".
func (l *Pooling1D) Class() string {
	if l.Kind == AvgPool {
		return "AveragePooling1D"
	}
	return "MaxPooling1D"
}
func (l *Pooling1D) Name() string                    { return l.LayerName }
func (l *Pooling1D) Build(in []Shape) (Shape, error) { panic("TODO(nn): Pooling1D.Build") }
func (l *Pooling1D) Weights() []*Param               { return nil }
func (l *Pooling1D) Prepare() error                  { return nil }
func (l *Pooling1D) ScratchSize(n int) int           { return 0 }
func (l *Pooling1D) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	panic("TODO(nn): Pooling1D.Forward")
}

// Class returns "GlobalMaxPooling1D" or "GlobalAveragePooling1D".
func (l *GlobalPooling1D) Class() string {
	if l.Kind == AvgPool {
		return "GlobalAveragePooling1D"
	}
	return "GlobalMaxPooling1D"
}
func (l *GlobalPooling1D) Name() string                    { return l.LayerName }
func (l *GlobalPooling1D) Build(in []Shape) (Shape, error) { panic("TODO(nn): GlobalPooling1D.Build") }
func (l *GlobalPooling1D) Weights() []*Param               { return nil }
func (l *GlobalPooling1D) Prepare() error                  { return nil }
func (l *GlobalPooling1D) ScratchSize(n int) int           { return 0 }
func (l *GlobalPooling1D) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	panic("TODO(nn): GlobalPooling1D.Forward")
}
