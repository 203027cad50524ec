package api

import (
	"os"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestMain puts gin in release mode once for the whole test binary, as
// cmd/seqcast does for the process (New never changes gin's global mode).
func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	os.Exit(m.Run())
}
