package serving

import (
	"strconv"

	"github.com/seqcast/seqcast/scaler"
)

// manifestVersion reads a manifest version as a TF Serving version number:
// a positive integer, optionally prefixed "v"; anything else is 1.
func manifestVersion(s string) int64 {
	if len(s) > 1 && (s[0] == 'v' || s[0] == 'V') {
		s = s[1:]
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil && v > 0 {
		return v
	}
	return 1
}

// scalerPipeline adapts a scaler.Pipeline to serving's pipeline.
type scalerPipeline struct {
	p *scaler.Pipeline
	F int
}

func loadPipeline(b []byte, window, features, outputs int) (pipeline, error) {
	p, err := scaler.Parse(b)
	if err != nil {
		return nil, err
	}
	if err := p.Check(window, features, outputs); err != nil {
		return nil, err
	}
	return scalerPipeline{p: p, F: features}, nil
}

func (s scalerPipeline) scaleInput(x []float32, raw []float64, n int) error {
	return s.p.ScaleBatch(x, raw, n, s.F)
}

func (s scalerPipeline) inverseOutput(dst []float64, y []float32, raw []float64, n int) error {
	return s.p.InverseBatch(dst, y, raw, n, s.F)
}
