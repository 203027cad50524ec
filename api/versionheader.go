package api

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/seqcast/seqcast/serving"
)

// versionHeaders are the X-Model-Version values of the first versions,
// made once: setting the header of a prediction answer allocates nothing
// for them (net/http only reads a header's slice; Add appends past its
// length-1 capacity into a new one).
var versionHeaders = func() (v [64][]string) {
	for i := range v {
		v[i] = []string{strconv.Itoa(i)}
	}
	return v
}()

// setModelVersionHeader sets X-Model-Version: the version of m, which
// answers the request (after canary routing). Call it once the version is
// final, before the answer is written.
func setModelVersionHeader(c *gin.Context, m *serving.Model) {
	v := m.Version()
	if v >= 0 && v < int64(len(versionHeaders)) {
		c.Writer.Header()["X-Model-Version"] = versionHeaders[v]
		return
	}
	c.Writer.Header()["X-Model-Version"] = []string{strconv.FormatInt(v, 10)}
}
