package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/seqcast/seqcast/jsoncodec"
	"github.com/seqcast/seqcast/serving"
)

// Error codes carried in {"error": {"code", ...}}.
const (
	CodeBadJSON          = "bad_json"               // 400
	CodeBadRequest       = "bad_request"            // 400
	CodeUnauthorized     = "unauthorized"           // 401
	CodeForbidden        = "forbidden"              // 403
	CodeNotFound         = "not_found"              // 404
	CodeMethodNotAllowed = "method_not_allowed"     // 405
	CodeReloadFailed     = "reload_failed"          // 409
	CodeTooLarge         = "body_too_large"         // 413
	CodeMediaType        = "unsupported_media_type" // 415
	CodeInvalid          = "invalid_input"          // 422
	CodeRateLimited      = "rate_limited"           // 429
	CodeInternal         = "internal"               // 500
	CodeNotReady         = "not_ready"              // 503
	CodeOverloaded       = "overloaded"             // 503 with Retry-After (admission control)
)

// Error is the one error shape every endpoint returns.
type Error struct {
	Status    int    `json:"-"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	// RetryAfter, when positive, is sent as the Retry-After header (seconds).
	RetryAfter int `json:"-"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

type errorBody struct {
	Error *Error `json:"error"`
}

func newErr(status int, code, field, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

func invalid(field, format string, args ...any) *Error {
	return newErr(http.StatusUnprocessableEntity, CodeInvalid, field, format, args...)
}

// abort writes e and stops the handler chain.
func abort(c *gin.Context, e *Error) {
	st := state(c)
	e.RequestID = st.id
	st.errCode = e.Code
	if e.RetryAfter > 0 {
		c.Writer.Header()["Retry-After"] = []string{strconv.Itoa(e.RetryAfter)}
	}
	if oipRoute(c.Request.URL.Path) { // the Open Inference Protocol's shape (oip.go)
		status, b := oipError(e)
		writeJSON(c, status, b)
		c.Abort()
		return
	}
	writeJSON(c, e.Status, errorBody{e})
	c.Abort()
}

// fromServing maps an error from package serving to the HTTP error it means.
// field is the request field the error's position is relative to (for
// example "instances" for a batch); the error's Index becomes its JSON path.
func fromServing(err error, field string) *Error {
	var ie *serving.InputError
	var nf *serving.NotFoundError
	var oe *serving.OverloadError
	switch {
	case errors.As(err, &oe):
		e := newErr(http.StatusServiceUnavailable, CodeOverloaded, "", "%v", oe)
		e.RetryAfter = int(math.Ceil(oe.RetryAfter.Seconds()))
		return e
	case errors.As(err, &ie):
		f := ie.Field
		if f == "" {
			f = jsonPath(field, ie.Index)
		}
		return invalid(f, "%s", ie.Msg)
	case errors.As(err, &nf) && nf.Label != "":
		return newErr(http.StatusNotFound, CodeNotFound, "model_version", "model %q has no version label %s (labels: %s)", nf.Model, quoteShort(nf.Label), nf.Served)
	case errors.As(err, &nf):
		return lookupError(nf, "")
	case errors.Is(err, serving.ErrUnsupported):
		return invalid("model", "%v", err)
	case errors.Is(err, serving.ErrNonFinite):
		return invalid(field, "%v", err)
	}
	return nil
}

// inputError maps a request array the codec refused (*jsoncodec.Error) to a
// 422 naming its JSON path; nil stays nil.
func inputError(err error) *Error {
	if err == nil {
		return nil
	}
	var ce *jsoncodec.Error
	if errors.As(err, &ce) {
		return invalid(ce.Path(), "%s", ce.Msg)
	}
	return newErr(http.StatusInternalServerError, CodeInternal, "", "reading the request: %v", err)
}

// jsonPath formats field[i][j]...
func jsonPath(field string, index []int) string {
	return (&jsoncodec.Error{Field: field, Index: index}).Path()
}

// lookupError maps a model, version or label that is not served to its
// HTTP error: an unknown model or version is 404; an unknown label is 422
// on the prediction routes (version, the model_version the client wrote:
// it was neither a number nor a label) and 400 on TF Serving's routes (its
// INVALID_ARGUMENT "Unrecognized servable version label"; version "").
func lookupError(nf *serving.NotFoundError, version string) *Error {
	switch {
	case nf.Label != "" && version != "":
		return invalid("model_version", "%s is not a version number (%s) nor a version label of model %q (labels: %s)",
			quoteShort(version), `2, "2" or "2.0"`, nf.Model, nf.Served)
	case nf.Label != "":
		return newErr(http.StatusBadRequest, CodeBadRequest, "label", "Unrecognized servable version label: %s (model %q has labels: %s)", cut(nf.Label), nf.Model, nf.Served)
	case nf.Version != 0:
		return newErr(http.StatusNotFound, CodeNotFound, "model_version", "model %q has no version %d (versions: %s)", nf.Model, nf.Version, nf.Served)
	}
	return newErr(http.StatusNotFound, CodeNotFound, "model", "model %s is not served (serving %s)", quoteShort(nf.Model), nf.Served)
}

// decodeError maps a JSON decoding error to 400 (syntax) or 422 (a value of
// the wrong type or out of float64 range, naming the field).
func decodeError(err error) *Error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		if te.Field == "" {
			return newErr(http.StatusBadRequest, CodeBadJSON, "", "request body must be a JSON object, got %s", cut(te.Value))
		}
		return invalid(te.Field, "cannot use %s here: want %s (finite, magnitude at most %g)", cut(te.Value), typeName(te), serving.MaxAbsValue)
	case errors.As(err, &se):
		return newErr(http.StatusBadRequest, CodeBadJSON, "", "malformed JSON at byte %d: %s", se.Offset, cut(err.Error()))
	}
	return newErr(http.StatusBadRequest, CodeBadJSON, "", "malformed JSON: %s", cut(err.Error()))
}

// cut shortens a text that may quote the client's input (encoding/json's
// "number 1e400..." holds the whole number) to jsoncodec.MaxEcho bytes.
func cut(s string) string {
	if len(s) > 2*jsoncodec.MaxEcho {
		return s[:2*jsoncodec.MaxEcho] + "... (cut)"
	}
	return s
}

func typeName(te *json.UnmarshalTypeError) string {
	if te.Type == nil {
		return "a different type"
	}
	switch te.Type.Kind() {
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return te.Type.String()
}
