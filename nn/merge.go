package nn

// MergeOp selects what a Merge layer does with its inputs.
type MergeOp int

const (
	Concatenate MergeOp = iota
	Add
	Subtract // exactly two inputs: first - second
	Multiply
	Average
)

// Merge is keras.layers.Concatenate / Add / Subtract / Multiply / Average.
// Concatenate joins along Axis (negative counts from the end, Keras's default
// -1; the batch axis is not countable); the others need equal shapes.
type Merge struct {
	LayerName string
	Op        MergeOp
	Axis      int
}

// Class returns "Concatenate", "Add", "Subtract", "Multiply" or "Average".
func (l *Merge) Class() string {
	return [...]string{"Concatenate", "Add", "Subtract", "Multiply", "Average"}[l.Op]
}
func (l *Merge) Name() string                    { return l.LayerName }
func (l *Merge) Build(in []Shape) (Shape, error) { panic("TODO(nn): Merge.Build") }
func (l *Merge) Weights() []*Param               { return nil }
func (l *Merge) Prepare() error                  { return nil }
func (l *Merge) ScratchSize(n int) int           { return 0 }
func (l *Merge) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	panic("TODO(nn): Merge.Forward")
}
