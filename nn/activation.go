package nn

// Activation is an element-wise (or, for softmax, last-axis) function applied
// in place. The zero value is "linear".
type Activation struct {
	Name string
	fn   func(x []float32, last int)
}

// Apply applies the activation to x in place; last is the length of the last
// axis (softmax normalises over it; element-wise functions ignore it).
func (a Activation) Apply(x []float32, last int) {
	if a.fn != nil {
		a.fn(x, last)
	}
}

// NewActivation looks up a Keras activation by its config name. keras3
// selects the Keras 3 definition where the two differ (hard_sigmoid).
// Unknown names are an error that lists what is supported.
func NewActivation(name string, keras3 bool) (Activation, error) {
	panic("TODO(nn): NewActivation")
}
