package api

import (
	"github.com/gin-gonic/gin"

	"github.com/seqcast/seqcast/serving"
)

// The tensor routes (TF Serving :predict, OIP infer) watched as /predict is:
// every sample of a single-input model's tensor is checked against the
// training statistics in raw units (serving.Model.CheckTensor: through the
// input scaler's inverse; a window_zscore model's tensors cannot be
// checked), counted, logged, returned as "warnings" or refused under
// OutOfRangeReject, and fed to the drift statistic.

// checkTensor checks the n samples of x, the request field field's model
// input tensor (sample i is field[i]): the warnings to return, or a 422
// under OutOfRangeReject. A tensor that cannot be checked gives none.
func (s *Server) checkTensor(c *gin.Context, m *serving.Model, x []float32, n int, field string) ([]inputWarning, *Error) {
	if m.TrainingStats() == nil {
		return nil, nil
	}
	warns, drift, ok := m.CheckTensor(x, n)
	if !ok {
		return nil, nil
	}
	s.setDrift(m, drift)
	var out []inputWarning
	for i, ws := range warns {
		if len(ws) == 0 {
			continue
		}
		var e *Error
		if out, e = s.outOfRange(c, m, jsonPath(field, []int{i}), ws, out); e != nil {
			return nil, e
		}
	}
	return out, nil
}

// tensorSamples is n samples of model input tensors as the request log's
// windows: sample i's values of every input, in the model's input order.
// Built only for a sampled line.
func tensorSamples(xs [][]float32, n int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		for _, x := range xs {
			k := len(x) / n
			for _, v := range x[i*k : (i+1)*k] {
				out[i] = append(out[i], float64(v))
			}
		}
	}
	return out
}

// tensorOutputs is n samples' raw outputs for the request log: sample i's
// values of every output, in the model's output order.
func tensorOutputs(ys [][]float32, n int) []loggedPrediction {
	out := make([]loggedPrediction, n)
	for i := range out {
		var o []float64
		for _, y := range ys {
			k := len(y) / n
			for _, v := range y[i*k : (i+1)*k] {
				o = append(o, float64(v))
			}
		}
		out[i] = loggedPrediction{Outputs: o}
	}
	return out
}
