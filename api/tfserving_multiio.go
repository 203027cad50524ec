package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seqcast/seqcast/jsoncodec"
	"github.com/seqcast/seqcast/serving"
)

// multiIORefusal is /predict's and /predict/batch's answer for a model with
// several inputs or outputs: they take one series per request, and such a
// model is served by the TensorFlow Serving route with named tensors.
func multiIORefusal(m *serving.Model) *Error {
	first := m.Inputs()[0].Name
	return invalid("model", "model %q has inputs %s and outputs %s: /predict and /predict/batch take one series; "+
		"send its named inputs to POST /v1/models/%s:predict (TensorFlow Serving's REST API: "+
		`{"inputs": {%q: [...], ...}} or {"instances": [{%q: ..., ...}]})`,
		m.Name(), tensorList(m.Inputs()), tensorList(m.Outputs()), m.Name(), first, first)
}

// tensorList formats named tensors as "prices (N, 8, 2), weather (N, 5, 3)".
func tensorList(ts []serving.Tensor) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		dims := make([]string, 0, len(t.Shape)+1)
		dims = append(dims, "N")
		for _, d := range t.Shape {
			dims = append(dims, fmt.Sprint(d))
		}
		parts[i] = fmt.Sprintf("%s (%s)", t.Name, strings.Join(dims, ", "))
	}
	return strings.Join(parts, ", ")
}

// tfPredictMulti answers :predict for a model with several inputs or
// outputs, as TensorFlow Serving's REST API does for a signature with named
// tensors: a columnar request ("inputs": {"name": [...]}) is answered with
// "outputs": {"name": [...]}, a row request ("instances": [{"name": ...}])
// with "predictions": [{"name": ...}]; a model with a single output answers
// its bare values in either. A model with a single input also takes the
// unnamed (N, ...) list. release frees the request body once read.
func (s *Server) tfPredictMulti(c *gin.Context, m *serving.Model, req *jsoncodec.TFPredict, release func()) {
	ins := m.Inputs()
	raw, field := req.Instances, "instances"
	if jsoncodec.Absent(raw) {
		raw, field = req.Inputs, "inputs"
	} else if !jsoncodec.Absent(req.Inputs) {
		release()
		abort(c, invalid("inputs", "send either instances (row format) or inputs (columnar format), not both"))
		return
	}
	if jsoncodec.Absent(raw) {
		release()
		abort(c, invalid("instances", "required: model %q takes named inputs %s, as {\"inputs\": {\"%s\": [...], ...}} or {\"instances\": [{\"%s\": ..., ...}]}",
			m.Name(), tensorList(ins), ins[0].Name, ins[0].Name))
		return
	}
	b := jsoncodec.Bounds{MaxCount: s.cfg.MaxBatch, MaxAbs: serving.MaxAbsValue}
	var xs [][]float32
	var n int
	var err error
	if jsoncodec.IsNamed(raw) {
		named := make([]jsoncodec.Named, len(ins))
		for j, t := range ins {
			named[j] = jsoncodec.Named{Name: t.Name, Shape: t.Shape}
		}
		xs, n, err = jsoncodec.NamedTensors(raw, field, named, b)
	} else if len(ins) == 1 {
		var x []float32
		x, n, err = jsoncodec.List(raw, field, ins[0].Shape, b)
		xs = [][]float32{x}
	} else {
		err = &jsoncodec.Error{Field: field, Msg: fmt.Sprintf("model %q has %d inputs, %s: name them (%s as an object of name -> tensors, instances as objects of name -> sample)",
			m.Name(), len(ins), tensorList(ins), `"inputs"`)}
	}
	release()
	if err != nil {
		abort(c, inputError(err))
		return
	}
	// Training statistics describe one input window: a multi-IO model's
	// tensors are not checked; canary and shadow apply as on one tensor.
	m = s.routeTensors(c, m, xs)
	setModelVersionHeader(c, m)
	s.metrics.observeRequestBatch(tfPredictRoute, n)
	st := state(c)
	st.setCached(false)
	t0 := time.Now()
	ys, err := m.RawMulti(c.Request.Context(), xs, n)
	st.modelDur = time.Since(t0)
	if err != nil {
		abort(c, s.computeError(err, field))
		return
	}
	s.shadowRaw(c, m, xs, n, ys)
	if s.sampleRequestLog() {
		defer s.logRequest(c, m, tfPredictRoute, tensorSamples(xs, n), tensorOutputs(ys, n), nil, false)
	}
	outs := m.Outputs()
	if field == "inputs" { // columnar: name -> the N samples
		if len(outs) == 1 {
			writeJSON(c, http.StatusOK, gin.H{"outputs": samples(ys[0], outs[0], n)})
			return
		}
		named := make(gin.H, len(outs))
		for j, t := range outs {
			named[t.Name] = samples(ys[j], t, n)
		}
		writeJSON(c, http.StatusOK, gin.H{"outputs": named})
		return
	}
	preds := make([]any, n)
	for i := range preds {
		if len(outs) == 1 {
			size := outs[0].Shape.Size()
			preds[i] = nest(ys[0][i*size:(i+1)*size], outs[0].Shape)
			continue
		}
		one := make(gin.H, len(outs))
		for j, t := range outs {
			size := t.Shape.Size()
			one[t.Name] = nest(ys[j][i*size:(i+1)*size], t.Shape)
		}
		preds[i] = one
	}
	writeJSON(c, http.StatusOK, gin.H{"predictions": preds})
}

// samples nests n samples of one output.
func samples(y []float32, t serving.Tensor, n int) []any {
	size := t.Shape.Size()
	out := make([]any, n)
	for i := range out {
		out[i] = nest(y[i*size:(i+1)*size], t.Shape)
	}
	return out
}

// multiIOSignature is the serving_default signature's inputs and outputs of
// a multi-IO model, keyed by Keras's tensor names as a SavedModel export
// of the model would key them.
func multiIOSignature(m *serving.Model) (gin.H, gin.H) {
	ins, outs := gin.H{}, gin.H{}
	for _, t := range m.Inputs() {
		ins[t.Name] = tensorInfo("serving_default_"+t.Name+":0", t.Shape)
	}
	for j, t := range m.Outputs() {
		outs[t.Name] = tensorInfo(fmt.Sprintf("StatefulPartitionedCall:%d", j), t.Shape)
	}
	return ins, outs
}
