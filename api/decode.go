package api

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// maxPooledBody is the largest body buffer kept for reuse; bigger ones (large
// batches) go back to the garbage collector so that one burst of big requests
// does not pin memory.
const maxPooledBody = 64 << 10

// readBody checks the content type and size and reads the body into a pooled
// buffer; call release when done with the bytes. Accepted content types:
// application/json, any application/*+json, none at all, and
// application/x-www-form-urlencoded (what `curl -d` sends by default; the
// body is still read as JSON).
func (s *Server) readBody(c *gin.Context) (body []byte, release func(), e *Error) {
	if ct := c.Request.Header["Content-Type"]; len(ct) > 0 && ct[0] != "" && ct[0] != "application/json" {
		mt, _, err := mime.ParseMediaType(ct[0])
		if err != nil || !(mt == "application/json" || mt == "application/x-www-form-urlencoded" ||
			(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))) {
			return nil, nil, newErr(http.StatusUnsupportedMediaType, CodeMediaType, "", "content type %q: send application/json", ct[0])
		}
	}
	cl := c.Request.ContentLength
	if cl > s.cfg.BodyLimit {
		return nil, nil, newErr(http.StatusRequestEntityTooLarge, CodeTooLarge, "", "body of %d bytes exceeds the limit of %d bytes", cl, s.cfg.BodyLimit)
	}
	buf, _ := s.bodies.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	release = func() {
		if buf.Cap() <= maxPooledBody {
			buf.Reset()
			s.bodies.Put(buf)
		}
	}
	var rd io.Reader
	if cl >= 0 {
		// The server stops the body at Content-Length, which is within the
		// limit; the check below still catches a body longer than announced.
		buf.Grow(int(cl) + bytes.MinRead)
		rd = io.LimitReader(c.Request.Body, s.cfg.BodyLimit+1)
	} else {
		rd = http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.BodyLimit)
	}
	if _, err := buf.ReadFrom(rd); err != nil {
		release()
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, nil, newErr(http.StatusRequestEntityTooLarge, CodeTooLarge, "", "body exceeds the limit of %d bytes", s.cfg.BodyLimit)
		}
		return nil, nil, newErr(http.StatusBadRequest, CodeBadRequest, "", "reading the body: %v", err)
	}
	if int64(buf.Len()) > s.cfg.BodyLimit {
		release()
		return nil, nil, newErr(http.StatusRequestEntityTooLarge, CodeTooLarge, "", "body exceeds the limit of %d bytes", s.cfg.BodyLimit)
	}
	body = buf.Bytes()
	if len(bytes.TrimSpace(body)) == 0 {
		release()
		return nil, nil, newErr(http.StatusBadRequest, CodeBadJSON, "", "empty body: send a JSON object")
	}
	return body, release, nil
}
