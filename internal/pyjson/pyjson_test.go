package pyjson

import (
	"encoding/json"
	"math"
	"os/exec"
	"strings"
	"testing"
)

// TestMatchesPython checks AppendFloat and Reformat against Debian's
// Python (/usr/bin/python3; missing is a failure).
func TestMatchesPython(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no Python")
	}
	floats := []float64{1e-8, 1e-4, 0.0001234, 1e-5, 0.5, 1, 100, 1e15, 1e16, 1.5e16, 123456789012345678, 2.5e-300,
		math.MaxFloat64, math.SmallestNonzeroFloat64, -0.1, 1.0 / 3, 0.1 + 0.2, -1e22, 9999999999999998}
	docs := []string{
		`{"b": 1, "a": [1.0, 2.50, -0, 1E5, 12345678901234567890], "c": {"d": null, "e": true, "f": false}, "g": []}`,
		`{"s": "tab\there \"q\" \\ caf\u00e9 \ud83d\ude00 \u007f \u0001 </>&"}`,
		`[{"x": {}}, "", 0.000012]`,
	}
	bits := make([]uint64, len(floats)) // exact, and never taken for an int
	for i, f := range floats {
		bits[i] = math.Float64bits(f)
	}
	in, _ := json.Marshal(map[string]any{"bits": bits, "docs": docs})
	script := `
import json, struct, sys
d = json.loads(sys.stdin.read())
fs = [struct.unpack("<d", struct.pack("<Q", n))[0] for n in d["bits"]]
print(json.dumps([[repr(f) for f in fs], [json.dumps(json.loads(s)) for s in d["docs"]]]))
`
	cmd := exec.Command("/usr/bin/python3", "-c", script)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("/usr/bin/python3 is needed: %v", err)
	}
	var want [2][]string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for i, f := range floats {
		if got := string(AppendFloat(nil, f)); got != want[0][i] {
			t.Errorf("AppendFloat(%v) = %s, Python repr %s", f, got, want[0][i])
		}
	}
	for i, d := range docs {
		got, err := Reformat([]byte(d))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want[1][i] {
			t.Errorf("Reformat(%s) =\n%s\nPython:\n%s", d, got, want[1][i])
		}
	}
	set := []Member{{"b", []byte(`"x"`)}, {"new", []byte("1")}}
	for in, want := range map[string]string{
		`{"a": 1, "b": 2, "c": {"b": 3}}`: `{"a": 1, "b": "x", "c": {"b": 3}, "new": 1}`,
		`{}`:                              `{"b": "x", "new": 1}`,
		` [ {"b" : 1} ] `:                 `[{"b": 1}]`,
	} {
		got, err := Reformat([]byte(in), set...)
		if err != nil || string(got) != want {
			t.Errorf("Reformat(%s, set) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{`{`, `{"a": 1} x`, `[1, }`, strings.Repeat("[", 2000) + strings.Repeat("]", 2000)} {
		if _, err := Reformat([]byte(bad)); err == nil {
			t.Errorf("Reformat(%.20q): no error", bad)
		}
	}
}
