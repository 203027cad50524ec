package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seqcast/seqcast/jsoncodec"
	"github.com/seqcast/seqcast/serving"
)

// The Open Inference Protocol (KServe v2) over REST, as
// kserve/open-inference-protocol's specification/protocol/inference_rest.md
// defines it: server metadata, liveness and readiness, model metadata and
// readiness, and inference on raw model input and output (no scaler, no
// cache, like the TensorFlow Serving route). Every answer under /v2, the
// shared middleware's included, carries the protocol's error shape
// {"error": "..."} (abort).

// oipPlatform is the "platform" model metadata reports ("<project>_<format>").
const oipPlatform = "seqcast_keras"

// The tensor names of a model with one input and one output (a multi-IO
// model's tensors carry their Keras names), as the TF Serving signature
// names them.
const (
	oipInputName  = "input"
	oipOutputName = "output"
)

// oipRoute reports whether path is under /v2, where errors take the
// protocol's shape.
func oipRoute(path string) bool { return path == "/v2" || strings.HasPrefix(path, "/v2/") }

// oipErrorBody is the protocol's error object.
type oipErrorBody struct {
	Error string `json:"error"`
}

// oipError is e as the protocol answers it: {"error": "field: message"},
// with the spec's 400 for a request it cannot serve where seqcast says 422
// (the protocol has no 422); other statuses (401, 404, 405, 413, 415, 429,
// 500, 503) keep their meaning.
func oipError(e *Error) (int, oipErrorBody) {
	status := e.Status
	if status == http.StatusUnprocessableEntity {
		status = http.StatusBadRequest
	}
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	return status, oipErrorBody{Error: msg}
}

// oipRoutes registers the protocol's routes (GET ones answer HEAD too);
// compute runs before the inference handler, as on the other routes that
// compute.
func (s *Server) oipRoutes(e *gin.Engine, compute ...gin.HandlerFunc) {
	for path, h := range map[string]gin.HandlerFunc{
		"/v2": s.oipServer, "/v2/health/live": s.oipLive, "/v2/health/ready": s.oipReady,
		"/v2/models/:name": s.oipMetadata, "/v2/models/:name/versions/:version": s.oipMetadata,
		"/v2/models/:name/ready": s.oipModelReady, "/v2/models/:name/versions/:version/ready": s.oipModelReady,
	} {
		e.GET(path, h)
		e.HEAD(path, h)
	}
	infer := append(compute[:len(compute):len(compute)], s.oipInfer)
	e.POST("/v2/models/:name/infer", infer...)
	e.POST("/v2/models/:name/versions/:version/infer", infer...)
}

func (s *Server) oipServer(c *gin.Context) {
	writeJSON(c, http.StatusOK, gin.H{"name": "seqcast", "version": s.cfg.Version, "extensions": []string{}})
}

// oipLive: the process serves.
func (s *Server) oipLive(c *gin.Context) { writeJSON(c, http.StatusOK, gin.H{"live": true}) }

// oipReady: every model is loaded and the server is not draining (as
// /ready); else 503, so a Kubernetes readinessProbe reads it directly.
func (s *Server) oipReady(c *gin.Context) {
	if s.Ready() {
		writeJSON(c, http.StatusOK, gin.H{"ready": true})
		return
	}
	reason := "models are loading"
	if s.draining.Load() {
		reason = "server is draining"
	}
	writeJSON(c, http.StatusServiceUnavailable, gin.H{"ready": false, "error": reason})
}

// oipModel resolves the path's model and version: a version number, or one
// of the model's version labels; none is the default version.
func (s *Server) oipModel(c *gin.Context) (*serving.Model, *Error) {
	if !s.reg.Ready() {
		return nil, newErr(http.StatusServiceUnavailable, CodeNotReady, "", "models are still loading")
	}
	var ref versionRef
	if v := c.Param("version"); v != "" {
		var e *Error
		if ref, e = parseVersion(v, true, " (path)"); e != nil {
			return nil, e
		}
	}
	m, e := s.lookup(c.Param("name"), ref)
	if e != nil {
		return nil, e
	}
	st := state(c)
	st.model, st.version, st.pinned = m.Name(), m.Version(), ref.set()
	return m, nil
}

// oipTensor is a tensor's metadata ($metadata_tensor).
type oipTensor struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    []int  `json:"shape"`
}

// oipTensors are a model's inputs and outputs with their per-sample shapes.
func oipTensors(m *serving.Model) (ins, outs []serving.Tensor) {
	if m.MultiIO() {
		return m.Inputs(), m.Outputs()
	}
	return []serving.Tensor{{Name: oipInputName, Shape: m.InputShape()}},
		[]serving.Tensor{{Name: oipOutputName, Shape: m.OutputShape()}}
}

// metadataTensors describes tensors with -1 for the batch dimension.
func metadataTensors(ts []serving.Tensor) []oipTensor {
	out := make([]oipTensor, len(ts))
	for i, t := range ts {
		out[i] = oipTensor{Name: t.Name, Datatype: "FP32", Shape: append([]int{-1}, t.Shape...)}
	}
	return out
}

func (s *Server) oipMetadata(c *gin.Context) {
	m, e := s.oipModel(c)
	if e != nil {
		abort(c, e)
		return
	}
	versions := []string{}
	if ms, err := s.reg.Status(m.Name()); err == nil {
		for i := len(ms.Versions) - 1; i >= 0; i-- { // lowest first
			if v := ms.Versions[i]; v.State == serving.StateAvailable {
				versions = append(versions, strconv.FormatInt(v.Version, 10))
			}
		}
	}
	ins, outs := oipTensors(m)
	writeJSON(c, http.StatusOK, gin.H{
		"name": m.Name(), "versions": versions, "platform": oipPlatform,
		"inputs": metadataTensors(ins), "outputs": metadataTensors(outs),
	})
}

// oipModelReady: a served version is loaded and self-tested, hence ready;
// a model or version that is not served is 404.
func (s *Server) oipModelReady(c *gin.Context) {
	m, e := s.oipModel(c)
	if e != nil {
		abort(c, e)
		return
	}
	writeJSON(c, http.StatusOK, gin.H{"name": m.Name(), "ready": true})
}

// oipRequest is $inference_request; unknown members are ignored.
type oipRequest struct {
	ID         *string                    `json:"id"`
	Parameters map[string]json.RawMessage `json:"parameters"`
	Inputs     []oipInput                 `json:"inputs"`
	Outputs    []oipOutput                `json:"outputs"`
}

type oipInput struct {
	Name       string                     `json:"name"`
	Shape      []int64                    `json:"shape"`
	Datatype   string                     `json:"datatype"`
	Parameters map[string]json.RawMessage `json:"parameters"`
	Data       json.RawMessage            `json:"data"`
}

type oipOutput struct {
	Name       string                     `json:"name"`
	Parameters map[string]json.RawMessage `json:"parameters"`
}

// oipResponseOutput is $response_output: data flat, row-major.
type oipResponseOutput struct {
	Name     string    `json:"name"`
	Datatype string    `json:"datatype"`
	Shape    []int     `json:"shape"`
	Data     []float32 `json:"data"`
}

func decodeOIP(b []byte) (oipRequest, error) {
	var req oipRequest
	err := json.Unmarshal(b, &req)
	return req, err
}

// binaryParam names the binary tensor data extension's parameters, which
// seqcast does not implement: a request using them is refused rather than
// answered in JSON it did not ask for.
func binaryParam(p map[string]json.RawMessage, names ...string) string {
	for _, n := range names {
		if v, ok := p[n]; ok && string(v) != "false" && string(v) != "null" {
			return n
		}
	}
	return ""
}

func (s *Server) oipInfer(c *gin.Context) {
	req, release, e := body(s, c, decodeOIP)
	if e != nil {
		abort(c, e)
		return
	}
	m, e := s.oipModel(c)
	if e != nil {
		release()
		abort(c, e)
		return
	}
	xs, n, outs, e := s.oipInputs(m, &req)
	release()
	if e != nil {
		abort(c, e)
		return
	}
	m = s.routeTensors(c, m, xs)
	setModelVersionHeader(c, m)
	s.metrics.observeRequestBatch(oipInferRoute, n)
	var warns []inputWarning
	if !m.MultiIO() { // training statistics describe one input window
		if warns, e = s.checkTensor(c, m, xs[0], n, "inputs[0]"); e != nil {
			abort(c, e)
			return
		}
	}
	st := state(c)
	st.setCached(false)
	t0 := time.Now()
	var ys [][]float32
	var err error
	if m.MultiIO() {
		ys, err = m.RawMulti(c.Request.Context(), xs, n)
	} else {
		var y []float32
		y, err = m.Raw(c.Request.Context(), xs[0], n)
		ys = [][]float32{y}
	}
	st.modelDur = time.Since(t0)
	if err != nil {
		abort(c, s.computeError(err, "inputs"))
		return
	}
	s.shadowRaw(c, m, xs, n, ys)
	_, all := oipTensors(m)
	resp := make([]oipResponseOutput, len(outs))
	for i, j := range outs {
		resp[i] = oipResponseOutput{Name: all[j].Name, Datatype: "FP32", Shape: append([]int{n}, all[j].Shape...), Data: ys[j]}
	}
	body := gin.H{"model_name": m.Name(), "model_version": strconv.FormatInt(m.Version(), 10), "outputs": resp}
	if req.ID != nil {
		body["id"] = *req.ID
	}
	if len(warns) > 0 { // the protocol's place for what it does not define
		body["parameters"] = gin.H{"warnings": warns}
	}
	writeJSON(c, http.StatusOK, body)
	if s.sampleRequestLog() {
		s.logRequest(c, m, oipInferRoute, tensorSamples(xs, n), tensorOutputs(ys, n), warns, false)
	}
}

// oipInferRoute is the OIP infer route's label (metrics, logs).
const oipInferRoute = "/v2/models/{name}/infer"

// oipInputs reads the request's inputs into one flat batch per model input,
// in the model's order, and resolves the outputs asked for (indexes into
// the model's outputs; all of them when none is named).
func (s *Server) oipInputs(m *serving.Model, req *oipRequest) ([][]float32, int, []int, *Error) {
	if p := binaryParam(req.Parameters, "binary_data_output"); p != "" {
		return nil, 0, nil, newErr(http.StatusBadRequest, CodeBadRequest, "parameters."+p, "the binary tensor data extension is not supported: send and receive tensors as JSON")
	}
	ins, outs := oipTensors(m)
	if len(req.Inputs) == 0 {
		return nil, 0, nil, invalid("inputs", "required: model %q takes %s", m.Name(), oipList(ins))
	}
	xs := make([][]float32, len(ins))
	n := 0
	for i, in := range req.Inputs {
		at := fmt.Sprintf("inputs[%d]", i)
		j := tensorIndex(ins, in.Name)
		switch {
		case j < 0:
			return nil, 0, nil, invalid(at+".name", "%s is not an input of model %q; its inputs are %s", quoteShort(in.Name), m.Name(), oipList(ins))
		case xs[j] != nil:
			return nil, 0, nil, invalid(at+".name", "input %q is given twice", in.Name)
		}
		if p := binaryParam(in.Parameters, "binary_data_size"); p != "" {
			return nil, 0, nil, newErr(http.StatusBadRequest, CodeBadRequest, at+".parameters."+p, "the binary tensor data extension is not supported: send the tensor's data as JSON")
		}
		dt, ok := jsoncodec.ParseDatatype(in.Datatype)
		if !ok {
			return nil, 0, nil, invalid(at+".datatype", "%s is not supported: send one of %s", quoteShort(in.Datatype), jsoncodec.Datatypes)
		}
		shape, e := s.oipShape(in.Shape, ins[j], at+".shape", n)
		if e != nil {
			return nil, 0, nil, e
		}
		if jsoncodec.Absent(in.Data) {
			return nil, 0, nil, invalid(at+".data", "required: the tensor's %s values, flat or nested as its shape", dt.Name)
		}
		x, err := jsoncodec.OIPTensor(in.Data, at+".data", dt, shape, jsoncodec.Bounds{MaxCount: s.cfg.MaxBatch, MaxAbs: serving.MaxAbsValue})
		if err != nil {
			return nil, 0, nil, inputError(err)
		}
		xs[j], n = x, shape[0]
	}
	for j, x := range xs {
		if x == nil {
			return nil, 0, nil, invalid("inputs", "input %q is missing; model %q takes %s", ins[j].Name, m.Name(), oipList(ins))
		}
	}
	var want []int
	for i, o := range req.Outputs {
		at := fmt.Sprintf("outputs[%d]", i)
		j := tensorIndex(outs, o.Name)
		switch {
		case j < 0:
			return nil, 0, nil, invalid(at+".name", "%s is not an output of model %q; its outputs are %s", quoteShort(o.Name), m.Name(), oipList(outs))
		case slices.Contains(want, j):
			return nil, 0, nil, invalid(at+".name", "output %q is asked for twice", o.Name)
		}
		if p := binaryParam(o.Parameters, "binary_data"); p != "" {
			return nil, 0, nil, newErr(http.StatusBadRequest, CodeBadRequest, at+".parameters."+p, "the binary tensor data extension is not supported: outputs are returned as JSON")
		}
		want = append(want, j)
	}
	if want == nil {
		for j := range outs {
			want = append(want, j)
		}
	}
	return xs, n, want, nil
}

// oipShape checks a request input's shape against the model input t: the
// batch (1 to MaxBatch, the same as the inputs before, n, unless n is 0),
// then t's per-sample shape.
func (s *Server) oipShape(shape []int64, t serving.Tensor, field string, n int) ([]int, *Error) {
	dims := []string{"N"}
	for _, d := range t.Shape {
		dims = append(dims, strconv.Itoa(d))
	}
	want := "[" + strings.Join(dims, ", ") + "]"
	if len(shape) != len(t.Shape)+1 {
		return nil, invalid(field, "%v: input %q takes shape %s (N from 1 to %d)", shape, t.Name, want, s.cfg.MaxBatch)
	}
	if shape[0] < 1 || shape[0] > int64(s.cfg.MaxBatch) {
		return nil, invalid(field, "batch of %d: send 1 to %d samples", shape[0], s.cfg.MaxBatch)
	}
	if n != 0 && shape[0] != int64(n) {
		return nil, invalid(field, "batch of %d, and the inputs before have %d: every input needs the same batch", shape[0], n)
	}
	out := []int{int(shape[0])}
	for k, d := range t.Shape {
		if shape[k+1] != int64(d) {
			return nil, invalid(field, "%v: input %q takes shape %s (N from 1 to %d)", shape, t.Name, want, s.cfg.MaxBatch)
		}
		out = append(out, d)
	}
	return out, nil
}

func tensorIndex(ts []serving.Tensor, name string) int {
	for j, t := range ts {
		if t.Name == name {
			return j
		}
	}
	return -1
}

// oipList formats tensors as `"input" FP32 [-1, 60, 1]`.
func oipList(ts []serving.Tensor) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		dims := []string{"-1"}
		for _, d := range t.Shape {
			dims = append(dims, strconv.Itoa(d))
		}
		parts[i] = fmt.Sprintf("%q FP32 [%s]", t.Name, strings.Join(dims, ", "))
	}
	return strings.Join(parts, ", ")
}
