package api

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seqcast/seqcast/jsoncodec"
	"github.com/seqcast/seqcast/serving"
)

// tfPath is a parsed /v1/models/... path.
type tfPath struct {
	name     string
	version  int64  // 0: the default version (unless label is set)
	label    string // a version label (/labels/{label}); "" for none
	metadata bool
	verb     string // "predict", "reload", ... ("" for GET)
}

// parseTFPath parses the part after /v1/models:
// "/NAME[/versions/V|/labels/L][/metadata]" optionally ending in ":VERB" (TF
// Serving's REST grammar).
func parseTFPath(rest string) (tfPath, *Error) {
	var p tfPath
	rest = strings.TrimPrefix(rest, "/")
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.Contains(rest[i:], "/") {
		p.verb = rest[i+1:]
		rest = rest[:i]
	}
	seg := strings.Split(rest, "/")
	if seg[0] == "" {
		return p, newErr(http.StatusNotFound, CodeNotFound, "", "no model name in path: use /v1/models/{name}")
	}
	p.name = seg[0]
	seg = seg[1:]
	if len(seg) >= 2 && seg[0] == "versions" {
		v, err := strconv.ParseInt(seg[1], 10, 64)
		if err != nil || v <= 0 {
			return p, newErr(http.StatusNotFound, CodeNotFound, "version", "version %q: want a positive integer", seg[1])
		}
		p.version = v
		seg = seg[2:]
	} else if len(seg) >= 2 && seg[0] == "labels" {
		if seg[1] == "" {
			return p, newErr(http.StatusNotFound, CodeNotFound, "label", "empty version label in path: use /v1/models/{name}/labels/{label}")
		}
		p.label = seg[1]
		seg = seg[2:]
	}
	if len(seg) == 1 && seg[0] == "metadata" && p.verb == "" {
		p.metadata = true
		seg = seg[1:]
	}
	if len(seg) != 0 {
		return p, newErr(http.StatusNotFound, CodeNotFound, "", "no route for /v1/models/%s", rest)
	}
	return p, nil
}

func (s *Server) tfServing(c *gin.Context) {
	p, e := parseTFPath(c.Param("rest"))
	if e != nil {
		abort(c, e)
		return
	}
	st := state(c)
	get := c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead
	switch {
	case c.Request.Method == http.MethodPost && p.verb == "predict":
		st.route = tfPredictRoute
		s.tfPredict(c, p)
	case c.Request.Method == http.MethodPost && p.verb == "reload":
		st.route = "/v1/models/{name}:reload"
		s.tfReload(c, p)
	case get && p.verb == "" && p.metadata:
		st.route = "/v1/models/{name}/metadata"
		s.tfMetadata(c, p)
	case get && p.verb == "":
		st.route = "/v1/models/{name}"
		s.tfStatus(c, p)
	case p.verb != "" && p.verb != "predict" && p.verb != "reload":
		abort(c, newErr(http.StatusNotFound, CodeNotFound, "", "method %q is not supported: seqcast serves :predict (and :reload)", p.verb))
	default:
		abort(c, newErr(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "", "method %s not allowed on %s", c.Request.Method, c.Request.URL.Path))
	}
}

func (s *Server) tfModel(c *gin.Context, p tfPath) (*serving.Model, *Error) {
	if !s.reg.Ready() {
		return nil, newErr(http.StatusServiceUnavailable, CodeNotReady, "", "models are still loading")
	}
	var m *serving.Model
	var err error
	if p.label != "" {
		m, err = s.reg.GetLabel(p.name, p.label)
	} else {
		m, err = s.reg.Get(p.name, p.version)
	}
	if err != nil {
		return nil, tfLookupError(err)
	}
	st := state(c)
	st.model, st.version, st.pinned = m.Name(), m.Version(), p.version != 0 || p.label != ""
	return m, nil
}

// tfLookupError maps a failed lookup as TF Serving answers it: an unknown
// model or version is 404; an unknown label is 400 (TF Serving's
// INVALID_ARGUMENT "Unrecognized servable version label").
func tfLookupError(err error) *Error {
	var nf *serving.NotFoundError
	if !errors.As(err, &nf) {
		return newErr(http.StatusInternalServerError, CodeInternal, "", "model lookup failed: %v", err)
	}
	e := lookupError(nf, "")
	if nf.Label == "" && nf.Version != 0 {
		e.Field = "version"
	}
	return e
}

func (s *Server) tfPredict(c *gin.Context, p tfPath) {
	req, release, e := body(s, c, jsoncodec.DecodeTFPredict)
	if e != nil {
		abort(c, e)
		return
	}
	m, x, n, field, e := s.tfInput(c, p, &req)
	if e == nil && m.MultiIO() {
		s.tfPredictMulti(c, m, &req, release)
		return
	}
	release()
	if e != nil {
		abort(c, e)
		return
	}
	xs := [][]float32{x}
	m = s.routeTensors(c, m, xs)
	setModelVersionHeader(c, m)
	s.metrics.observeRequestBatch(tfPredictRoute, n)
	warns, e := s.checkTensor(c, m, x, n, field)
	if e != nil {
		abort(c, e)
		return
	}
	st := state(c)
	st.setCached(false)
	t0 := time.Now()
	y, err := m.Raw(c.Request.Context(), x, n)
	st.modelDur = time.Since(t0)
	if err != nil {
		abort(c, s.computeError(err, field))
		return
	}
	ys := [][]float32{y}
	s.shadowRaw(c, m, xs, n, ys)
	shape := m.OutputShape()
	size := shape.Size()
	preds := make([]any, n)
	for i := range preds {
		preds[i] = nest(y[i*size:(i+1)*size], shape)
	}
	body := gin.H{"predictions": preds}
	if len(warns) > 0 {
		body["warnings"] = warns
	}
	writeJSON(c, http.StatusOK, body)
	if s.sampleRequestLog() {
		s.logRequest(c, m, tfPredictRoute, tensorSamples(xs, n), tensorOutputs(ys, n), warns, false)
	}
}

// tfPredictRoute is the TF Serving predict route's label (metrics, logs).
const tfPredictRoute = "/v1/models/{name}:predict"

// tfInput resolves the model of a :predict path and reads the body's
// instances (row format) or inputs (columnar format) into a flat batch of n
// samples; field says which.
func (s *Server) tfInput(c *gin.Context, p tfPath, req *jsoncodec.TFPredict) (*serving.Model, []float32, int, string, *Error) {
	m, e := s.tfModel(c, p)
	if e != nil || m.MultiIO() { // a multi-IO model's named tensors: tfPredictMulti
		return m, nil, 0, "", e
	}
	raw, field := req.Instances, "instances"
	if jsoncodec.Absent(raw) {
		raw, field = req.Inputs, "inputs"
	}
	in := m.InputShape()
	if jsoncodec.Absent(raw) {
		return nil, nil, 0, "", invalid("instances", "required: %s nested lists of numbers", batchShape(in))
	}
	if len(in) == 2 {
		x, n, err := jsoncodec.Tensor(raw, field, s.bounds(m))
		if err != nil {
			return nil, nil, 0, "", inputError(err)
		}
		return m, x, n, field, nil
	}
	// (S, T, F) subsequences, or a ConvLSTM2D's (S, 1, T, F): the tensor as
	// the network takes it, as TF Serving would; the window routes take its
	// S*T steps.
	x, n, err := jsoncodec.List(raw, field, in, jsoncodec.Bounds{MaxCount: s.cfg.MaxBatch, MaxAbs: serving.MaxAbsValue})
	if err != nil {
		e := inputError(err)
		e.Message += fmt.Sprintf("; model %q takes %s of shape %s %s", m.Name(), field, batchShape(in), axesText(len(in)))
		return nil, nil, 0, "", e
	}
	return m, x, n, field, nil
}

// axesText names the axes of a served input of per-sample rank 3 or 4.
func axesText(rank int) string {
	if rank == serving.ConvLSTMWindowRank {
		return "(batch, subsequences, rows, steps, features)"
	}
	return "(batch, subsequences, steps, features)"
}

// batchShape writes a per-sample shape with the batch first: (N, 3, 4, 2).
func batchShape(shape []int) string {
	var b strings.Builder
	b.WriteString("(N")
	for _, d := range shape {
		b.WriteString(", ")
		b.WriteString(strconv.Itoa(d))
	}
	b.WriteString(")")
	return b.String()
}

// nest shapes one sample's flat output like TF Serving does: a (1,) output
// stays a one-element list.
func nest(v []float32, shape []int) any {
	if len(shape) <= 1 {
		return v
	}
	k := len(v) / shape[0]
	out := make([]any, shape[0])
	for i := range out {
		out[i] = nest(v[i*k:(i+1)*k], shape[1:])
	}
	return out
}

func (s *Server) tfStatus(c *gin.Context, p tfPath) {
	m, e := s.tfModel(c, p)
	if e != nil {
		if s.tfEndedStatus(c, p) {
			return
		}
		abort(c, e)
		return
	}
	ms, err := s.reg.Status(m.Name())
	if err != nil {
		abort(c, tfLookupError(err))
		return
	}
	type status struct {
		ErrorCode    string `json:"error_code"`
		ErrorMessage string `json:"error_message"`
	}
	type versionStatus struct {
		Version string `json:"version"`
		State   string `json:"state"`
		Status  status `json:"status"`
	}
	var out []versionStatus
	for _, v := range ms.Versions {
		if (p.version != 0 || p.label != "") && v.Version != m.Version() {
			continue
		}
		out = append(out, versionStatus{Version: strconv.FormatInt(v.Version, 10), State: v.State, Status: status{ErrorCode: "OK"}})
	}
	body := gin.H{"model_version_status": out, "version_labels": ms.Labels, "default_version": ms.DefaultVer}
	cs, ss := rolloutStatus(ms.Rollout)
	if cs != nil {
		body["canary"] = cs
	}
	if ss != nil {
		body["shadow"] = ss
	}
	if ms.LastError != "" {
		body["last_reload_error"] = ms.LastError
	}
	writeJSON(c, http.StatusOK, body)
}

type tfTensorInfo struct {
	Dtype       string `json:"dtype"`
	TensorShape struct {
		Dim         []tfDim `json:"dim"`
		UnknownRank bool    `json:"unknown_rank"`
	} `json:"tensor_shape"`
	Name string `json:"name"`
}

type tfDim struct {
	Size string `json:"size"`
	Name string `json:"name"`
}

func tensorInfo(name string, shape []int) tfTensorInfo {
	t := tfTensorInfo{Dtype: "DT_FLOAT", Name: name}
	t.TensorShape.Dim = append(t.TensorShape.Dim, tfDim{Size: "-1"})
	for _, d := range shape {
		t.TensorShape.Dim = append(t.TensorShape.Dim, tfDim{Size: strconv.Itoa(d)})
	}
	return t
}

func (s *Server) tfMetadata(c *gin.Context, p tfPath) {
	m, e := s.tfModel(c, p)
	if e != nil {
		abort(c, e)
		return
	}
	sig := gin.H{
		"inputs":      gin.H{"input": tensorInfo("serving_default_input:0", m.InputShape())},
		"outputs":     gin.H{"output": tensorInfo("StatefulPartitionedCall:0", m.OutputShape())},
		"method_name": "tensorflow/serving/predict",
	}
	if m.MultiIO() {
		sig["inputs"], sig["outputs"] = multiIOSignature(m)
	}
	ext := gin.H{
		"fingerprint": m.Fingerprint(),
		"window":      m.Window(),
		"features":    m.Features(),
		"params":      m.ParamCount(),
		"origin":      m.Origin(),
		"loaded_at":   m.LoadedAt(),
	}
	if bt := m.Backtest(); bt != nil {
		ext["backtest"] = bt
	}
	if ms, err := s.reg.Status(m.Name()); err == nil {
		labels := []string{}
		for _, l := range sortedLabels(ms.Labels) {
			if ms.Labels[l] == m.Version() {
				labels = append(labels, l)
			}
		}
		ext["version_labels"], ext["labels"], ext["default_version"] = ms.Labels, labels, ms.DefaultVer
	}
	writeJSON(c, http.StatusOK, gin.H{
		"model_spec": gin.H{"name": m.Name(), "signature_name": "", "version": strconv.FormatInt(m.Version(), 10)},
		"metadata":   gin.H{"signature_def": gin.H{"signature_def": gin.H{"serving_default": sig}}},
		"seqcast":    ext,
	})
}

func (s *Server) tfReload(c *gin.Context, p tfPath) {
	if s.cfg.AdminKey == "" {
		abort(c, newErr(http.StatusForbidden, CodeForbidden, "", "reloading over HTTP is disabled: start the server with an admin key (SEQCAST_ADMIN_KEY)"))
		return
	}
	if k := presentedKey(c, "X-Admin-Key"); k == "" || !keyMatches(k, s.admin) {
		c.Header("WWW-Authenticate", `Bearer realm="seqcast-admin"`)
		abort(c, newErr(http.StatusUnauthorized, CodeUnauthorized, "", "the admin key is required (X-Admin-Key header or Authorization: Bearer)"))
		return
	}
	if _, e := s.tfModel(c, tfPath{name: p.name}); e != nil {
		abort(c, e)
		return
	}
	if err := s.Reload(c.Request.Context(), p.name); err != nil {
		if errors.Is(err, serving.ErrNotFound) {
			abort(c, tfLookupError(err))
			return
		}
		abort(c, newErr(http.StatusConflict, CodeReloadFailed, "", "reload failed, still serving the previous version: %v", err))
		return
	}
	m, _ := s.reg.Get(p.name, 0)
	st := state(c)
	st.model, st.version = m.Name(), m.Version()
	writeJSON(c, http.StatusOK, gin.H{"reloaded": m.Name(), "version": m.Version(), "fingerprint": m.Fingerprint()})
}

func sortedLabels(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for l := range m {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}
