package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

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
)

// Error is the one error shape every endpoint returns.
type Error struct {
	Status    int    `json:"-"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
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
	writeJSON(c, e.Status, errorBody{e})
	c.Abort()
}

// fromServing maps an error from package serving to the HTTP error it means.
// field is the request field the error's position is relative to (for
// example "instances" for a batch).
func fromServing(err error, field string) *Error {
	var ie *serving.InputError
	switch {
	case errors.As(err, &ie):
		f := ie.Field
		if field != "" {
			f = field + f
		}
		return invalid(f, "%s", ie.Msg)
	case errors.Is(err, serving.ErrNotFound):
		var nf *serving.NotFoundError
		if errors.As(err, &nf) && (nf.Version != 0 || nf.Label != "") {
			return newErr(http.StatusNotFound, CodeNotFound, "model_version", "%s", trimPrefix(err))
		}
		return newErr(http.StatusNotFound, CodeNotFound, "model", "%s", trimPrefix(err))
	case errors.Is(err, serving.ErrUnsupported):
		return invalid("model", "%s", trimPrefix(err))
	case errors.Is(err, serving.ErrNonFinite):
		return invalid(field, "%s", trimPrefix(err))
	}
	return nil
}

func trimPrefix(err error) string { return strings.TrimPrefix(err.Error(), "serving: ") }

// decodeError maps a JSON decoding error to 400 (syntax) or 422 (a value of
// the wrong type or out of float64 range, naming the field).
func decodeError(err error) *Error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		if te.Field == "" {
			return newErr(http.StatusBadRequest, CodeBadJSON, "", "request body must be a JSON object, got %s", te.Value)
		}
		return invalid(te.Field, "cannot use %s here: want %s (finite, magnitude at most %g)", te.Value, typeName(te), serving.MaxAbsValue)
	case errors.As(err, &se):
		return newErr(http.StatusBadRequest, CodeBadJSON, "", "malformed JSON at byte %d: %v", se.Offset, err)
	}
	return newErr(http.StatusBadRequest, CodeBadJSON, "", "malformed JSON: %v", err)
}

func typeName(te *json.UnmarshalTypeError) string {
	if te.Type == nil {
		return "a different type"
	}
	switch s := te.Type.String(); {
	case strings.Contains(s, "float64"):
		return "a number"
	case strings.Contains(s, "int"):
		return "an integer"
	case strings.Contains(s, "string"):
		return "a string"
	case strings.HasPrefix(s, "[]"):
		return "an array"
	default:
		return s
	}
}
