package nn

import (
	"fmt"
	"strconv"
)

// ShapeError is what the Build of Dot, Softmax and Normalization returns
// for an input shape or axis the layer cannot take (the batch axis as a
// contracted, softmax or kept axis, an axis out of range, contracted axes of
// different lengths, a mean that does not broadcast). Find it with errors.As.
type ShapeError struct {
	Layer, Class string
	Input        int   // the inbound tensor at fault (0 for one-input layers)
	Shape        Shape // its per-sample shape
	Reason       string
}

func (e *ShapeError) Error() string {
	return fmt.Sprintf("layer %q (%s): input %d of shape %v: %s", e.Layer, e.Class, e.Input, e.Shape, e.Reason)
}

// axisReason explains why axis (Keras numbering, batch = 0) is refused for
// an input of rank r per sample.
func axisReason(option string, axis, r int) string {
	if axis == 0 || axis == -(r+1) {
		return fmt.Sprintf("%s %d is the batch axis, which seqcast cannot reduce over (want -%d..-1 or 1..%d)", option, axis, r, r)
	}
	return fmt.Sprintf("%s %d is out of range (want -%d..-1 or 1..%d)", option, axis, r, r)
}

// kerasAxis turns a Keras axis (batch = 0, negative from the end) into a
// per-sample axis, or -1 when it is the batch axis or out of range.
func kerasAxis(axis, r int) int {
	if axis < 0 {
		axis += r + 1
	}
	if axis <= 0 || axis > r {
		return -1
	}
	return axis - 1
}

func itoa(n int) string { return strconv.Itoa(n) }
