package api

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/models"
	"github.com/seqcast/seqcast/serving"
)

// rolloutRegistry loads gold versions 1 and 2 (the embedded bundle) with
// version 1 the default and the given canary and shadow settings.
func rolloutRegistry(tb testing.TB, o serving.ModelOptions) *serving.Registry {
	tb.Helper()
	root := tb.TempDir()
	for _, v := range []string{"1", "2"} {
		if err := os.CopyFS(filepath.Join(root, "gold", v), models.Gold()); err != nil {
			tb.Fatal(err)
		}
	}
	o.DefaultVersion = 1
	reg := serving.NewRegistry(serving.Options{Models: map[string]serving.ModelOptions{"gold": o}}, serving.ModelsDir(root))
	if err := reg.Load(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return reg
}

// BenchmarkPredictUncachedRollout is the uncached POST /predict path with no
// canary or shadow ("plain"), with a canary taking no share ("canary": the
// input hash and route), and with every request also shadowed on version 2
// ("shadow": the submit on the response path, and the shadow worker's
// forward pass competing for the CPU beside it).
func BenchmarkPredictUncachedRollout(b *testing.B) {
	for _, tc := range []struct {
		name string
		o    serving.ModelOptions
	}{
		{"plain", serving.ModelOptions{}},
		{"canary", serving.ModelOptions{Canary: 2, CanaryPercent: 0}},
		{"shadow", serving.ModelOptions{Shadow: 2, ShadowRate: 1}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, err := New(Config{CacheTTL: 0}, rolloutRegistry(b, tc.o), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			h := s.Handler()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				req := httptest.NewRequest("POST", "/predict", strings.NewReader(predictBody(prices(60, float64(i)), "")))
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatal(rec.Code, rec.Body.String())
				}
			}
		})
	}
}
