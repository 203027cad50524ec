package serving

import (
	"fmt"

	"github.com/seqcast/seqcast/nn"
)

// A single-input model is served on windows of time steps: a per-sample
// input of (T, F) is a window of T steps of F features. The subsequence
// CNN-LSTM of the time-series tutorials takes (S, T, F), S subsequences of T
// steps each: its training code reshaped S*T consecutive steps into that
// shape, and the row-major memory of (S, T, F) is that of (S*T, F). So the
// model is served on a window of S*T steps of F features (scaler.json,
// training_stats.json, Forecast's sliding window, the routes that take a
// window), and the network sees each window split again; InputShape stays
// (S, T, F) for metadata and the raw tensor routes.
//
// The tutorial's ConvLSTM2D forecaster takes (S, 1, T, F): the same S*T
// steps reshaped into S images of one row of T steps (ConvLSTM1D models
// take (S, T, F) and are served as above). Its row-major memory is again
// that of (S*T, F), so it is served the same way. Any other rank-4 shape
// (rows > 1) is not a window of time steps.

// MaxWindowRank is the rank of a (subsequences, steps, features) input, the
// highest rank whose every shape is served; ConvLSTMWindowRank inputs are
// served only with one row.
const MaxWindowRank = 3

// ConvLSTMWindowRank is the rank of a ConvLSTM2D model's (subsequences, 1,
// steps, features) input.
const ConvLSTMWindowRank = 4

// InputShapeError is a single-input model whose per-sample input shape is
// not one the service can read as a window of time steps.
type InputShapeError struct {
	Shape nn.Shape
}

func (e *InputShapeError) Error() string {
	return fmt.Sprintf("model input shape %v: the service takes a single input of (time steps, features), (subsequences, steps, features) or (subsequences, 1, steps, features) per sample", e.Shape)
}

// WindowShape is the window a single input of per-sample shape in is served
// on: (T, F) is T steps of F features, (S, T, F) and (S, 1, T, F) are S*T
// steps of F features. Any other shape is an *InputShapeError.
func WindowShape(in nn.Shape) (steps, features int, err error) {
	switch len(in) {
	case 2:
		return in[0], in[1], nil
	case MaxWindowRank:
		return in[0] * in[1], in[2], nil
	case ConvLSTMWindowRank:
		if in[1] == 1 {
			return in[0] * in[2], in[3], nil
		}
	}
	return 0, 0, &InputShapeError{Shape: in}
}
