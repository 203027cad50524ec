package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/seqcast/seqcast/serving"
)

// tfEndedStatus answers GET /v1/models/NAME[/versions/N] for versions that
// were served and have been unloaded (their folder was removed from the
// models dir), as TF Serving does: state END. It reports whether it
// answered; the caller answers 404 otherwise.
func (s *Server) tfEndedStatus(c *gin.Context, p tfPath) bool {
	if p.label != "" || !s.reg.Ready() {
		return false
	}
	ms, err := s.reg.Status(p.name)
	if err != nil {
		return false
	}
	out := []gin.H{}
	for _, v := range ms.Versions {
		if v.State != serving.StateEnd || p.version != 0 && v.Version != p.version {
			continue
		}
		out = append(out, gin.H{"version": strconv.FormatInt(v.Version, 10), "state": v.State,
			"status": gin.H{"error_code": "OK", "error_message": ""}})
	}
	// A model still served answers for its END versions only when one is
	// asked for by number; a model removed altogether, for every one.
	if len(out) == 0 || p.version == 0 && ms.DefaultVer != 0 {
		return false
	}
	writeJSON(c, http.StatusOK, gin.H{"model_version_status": out})
	return true
}
