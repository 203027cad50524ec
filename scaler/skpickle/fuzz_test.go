package skpickle

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary files to Load. Seeds: every golden and hostile
// pickle in testdata, the real joblib fixtures, the hostile catalogue's
// huge claims and payloads, and testdata/fuzz/FuzzLoad. Every outcome is a
// scaler whose JSON parses, or one of the package's typed errors; never a
// panic, and never more than the limits allow.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/pickles/*.pkl")
	hostile, _ := filepath.Glob("testdata/hostile/*.pkl")
	files = append(append(files, hostile...), fixtureDir+"/scaler_X.pkl", fixtureDir+"/scaler_y.pkl")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for what, b := range hugeCases(f) {
		if len(b) < 1<<16 || what == "zlib bomb" {
			f.Add(b)
		}
	}
	for _, p := range payloads() {
		f.Add(append(append([]byte("\x80\x04"), p.code...), '.'))
	}
	lim := Limits{MaxFileSize: 1 << 20, MaxPickleSize: 4 << 20, MaxValues: 1 << 16}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := lim.Load(data)
		if err != nil {
			var ue *UnsafeError
			var fe *FormatError
			var le *LimitError
			if !errors.As(err, &ue) && !errors.As(err, &fe) && !errors.As(err, &le) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		b, err := s.MarshalJSON()
		if err != nil {
			return // a NaN or Inf that JSON cannot hold is refused here
		}
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil || v["kind"] != s.Kind {
			t.Fatalf("MarshalJSON wrote %s: %v", b, err)
		}
	})
}
