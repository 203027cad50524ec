package scaler

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Goldens are written by tools/scaler_goldens.py with Debian's scikit-learn:
//
//	/usr/bin/python3 tools/scaler_goldens.py
type golden struct {
	Name         string          `json:"name"`
	Scaler       json.RawMessage `json:"scaler"`
	Width        int             `json:"width"`
	X            [][]float64     `json:"x"`
	Transform    [][]float64     `json:"transform"`
	InverseInput [][]float64     `json:"inverse_input"`
	Inverse      [][]float64     `json:"inverse"`
}

type windowGolden struct {
	Name      string          `json:"name"`
	Scaler    json.RawMessage `json:"scaler"`
	T, F      int
	X         [][][]float64 `json:"x"`
	Transform [][][]float64 `json:"transform"`
	Y         [][]float64   `json:"y"`
	Inverse   [][]float64   `json:"inverse"`
}

const goldenRel = 1e-12

func flat(rows [][]float64) []float64 {
	var out []float64
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

func assertClose(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if d := math.Abs(got[i] - want[i]); d > goldenRel*math.Abs(want[i]) {
			t.Errorf("%s[%d] = %.17g, scikit-learn %.17g (rel %.3g)", what, i, got[i], want[i], d/math.Abs(want[i]))
		}
	}
}

func goldenFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no goldens in testdata (run /usr/bin/python3 tools/scaler_goldens.py): %v", err)
	}
	return files
}

func TestSklearnGoldens(t *testing.T) {
	for _, f := range goldenFiles(t) {
		if strings.HasPrefix(filepath.Base(f), "window_") {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var g golden
			if err := json.Unmarshal(b, &g); err != nil {
				t.Fatal(err)
			}
			s, err := ParseScaler(g.Scaler)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Check(g.Width); err != nil {
				t.Fatal(err)
			}
			x := flat(g.X)
			got := make([]float64, len(x))
			if err := s.Transform(got, x, g.Width); err != nil {
				t.Fatal(err)
			}
			assertClose(t, "transform", got, flat(g.Transform))
			z := flat(g.InverseInput)
			if err := s.InverseTransform(z, z, g.Width); err != nil { // in place
				t.Fatal(err)
			}
			assertClose(t, "inverse", z, flat(g.Inverse))
		})
	}
}

func TestWindowZScoreGoldens(t *testing.T) {
	for _, f := range goldenFiles(t) {
		if !strings.HasPrefix(filepath.Base(f), "window_") {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var g windowGolden
			if err := json.Unmarshal(b, &g); err != nil {
				t.Fatal(err)
			}
			p, err := Parse(g.Scaler)
			if err != nil {
				t.Fatal(err)
			}
			W := len(g.Y[0])
			if err := p.Check(g.T, g.F, W); err != nil {
				t.Fatal(err)
			}
			in, out := p.Input.(*WindowZScore), p.Output.(*WindowZScore)
			for i, w := range g.X {
				raw := flat(w)
				got := make([]float64, len(raw))
				if err := in.Transform(got, raw, g.F); err != nil {
					t.Fatal(err)
				}
				assertClose(t, "transform", got, flat(g.Transform[i]))

				x32 := make([]float32, len(raw))
				st, err := p.ScaleWindow(x32, raw, g.T, g.F)
				if err != nil {
					t.Fatal(err)
				}
				for j, v := range x32 {
					if v != float32(got[j]) {
						t.Fatalf("ScaleWindow[%d] = %v, want float32(%v)", j, v, got[j])
					}
				}
				inv := make([]float64, W)
				out.Inverse(inv, g.Y[i], W, st.Mu, st.Sigma)
				assertClose(t, "inverse", inv, g.Inverse[i])
			}
		})
	}
}
