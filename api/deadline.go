package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// RequestTimeoutHeader is the header a client may send to ask for a deadline
// shorter than the server's: a Go duration ("1.5s", "800ms") or seconds
// ("2.5"). Its work is shed (503, Retry-After) rather than computed when it
// cannot be done in time.
const RequestTimeoutHeader = "X-Request-Timeout"

// maxRequestTimeout bounds what a client may ask for in X-Request-Timeout.
const maxRequestTimeout = time.Hour

// withDeadline gives a computing request's context its deadline: the
// server's RequestTimeout (cmd/seqcast: a bit shorter than --write-timeout,
// so that an answer computed in time can still be written), or the client's
// X-Request-Timeout when that is shorter. Admission control (package
// serving) sheds work that cannot finish before it.
func (s *Server) withDeadline(c *gin.Context) {
	d := s.cfg.RequestTimeout
	if v := c.Request.Header["X-Request-Timeout"]; len(v) > 0 {
		cd, ok := parseRequestTimeout(v[0])
		if !ok {
			abort(c, newErr(http.StatusBadRequest, CodeBadRequest, RequestTimeoutHeader,
				"%s: want a positive duration (\"1.5s\", \"800ms\") or seconds (\"2.5\") up to %v, got %s", RequestTimeoutHeader, maxRequestTimeout, quoteShort(v[0])))
			return
		}
		if d <= 0 || cd < d {
			d = cd
		}
	}
	if d > 0 {
		ctx, cancel := context.WithTimeout(c.Request.Context(), d)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
	}
	// A large body waits, unread, until admission control's byte budget has
	// room for it: a flood of large requests is read and decoded a bounded
	// number at a time (serving.Admission.AdmitBytes).
	if n := c.Request.ContentLength; n >= bodyGateMin || n < 0 {
		if n < 0 || n > s.cfg.BodyLimit { // chunked: charge the most it may be
			n = s.cfg.BodyLimit
		}
		release, err := s.reg.Admission().AdmitBytes(c.Request.Context(), "", n)
		if err != nil {
			// Take what the client sends (at most the body limit, unparsed)
			// so that it reads the 503 rather than a reset connection.
			_, _ = io.CopyN(io.Discard, c.Request.Body, s.cfg.BodyLimit+1)
			abort(c, s.computeError(err, ""))
			return
		}
		defer release()
	}
	c.Next()
}

// bodyGateMin is the smallest body that waits for admission control's byte
// budget: smaller ones (every /predict of a few windows) go straight on.
const bodyGateMin = 64 << 10

func parseRequestTimeout(v string) (time.Duration, bool) {
	d, err := time.ParseDuration(v)
	if err != nil {
		f, ferr := strconv.ParseFloat(v, 64)
		if ferr != nil || f != f {
			return 0, false
		}
		if f > maxRequestTimeout.Seconds() {
			return 0, false
		}
		d = time.Duration(f * float64(time.Second))
	}
	return d, d > 0 && d <= maxRequestTimeout
}

// writeFailed records a response that could not be written (the client
// went away or the write timeout passed): the request is logged and
// counted as client_gone (status 499), never as what it would have been.
func writeFailed(c *gin.Context, err error) {
	if err != nil {
		state(c).writeErr = err
	}
}

// flushError sends what is buffered of the response and reports whether the
// connection took it (gin's Flush drops the error: unwrap to net/http's).
func flushError(w http.ResponseWriter) error {
	for {
		switch t := w.(type) {
		case *timedWriter:
			w = t.ResponseWriter
		case interface{ FlushError() error }:
			return t.FlushError()
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return nil
		}
	}
}

// clientGone reports whether the request's answer did not reach its client:
// the write failed, or the client closed the connection (net/http cancels
// the request's base context then).
func (st *reqState) clientGone() bool {
	return st.writeErr != nil || st.base != nil && errors.Is(st.base.Err(), context.Canceled)
}

// statusClientGone is the status logged and counted for a response that did
// not reach its client (nginx's 499).
const statusClientGone = 499
