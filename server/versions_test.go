package server

import (
	"fmt"
	"strings"
	"testing"
)

func TestModelOptionsFlags(t *testing.T) {
	for _, tc := range []struct {
		labels, defaults string
		want             string // %v of the options, or the error
	}{
		{"", "", "map[]"},
		{"gold:stable=1,canary=2", "", "map[gold:{map[canary:2 stable:1] 0  0 0 0 0}]"},
		{"gold:stable=1,canary=2,other:stable=3", "", "map[gold:{map[canary:2 stable:1] 0  0 0 0 0} other:{map[stable:3] 0  0 0 0 0}]"},
		{" gold : stable = 1 , canary=2 ", "gold:canary", "map[gold:{map[canary:2 stable:1] 0 canary 0 0 0 0}]"},
		{"", "gold:2,other:4", "map[gold:{map[] 2  0 0 0 0} other:{map[] 4  0 0 0 0}]"},
		{"stable=1", "", `--version-labels: "stable=1" names no model`},
		{"gold:stable", "", `--version-labels: "gold:stable": want NAME:LABEL=VERSION`},
		{"gold:stable=0", "", `version "0": want a positive integer`},
		{"gold:stable=1.5", "", `version "1.5": want a positive integer`},
		{"gold:stable=1,stable=2", "", `model "gold" already has label "stable"`},
		{":stable=1", "", "empty model name"},
		{"gold:2=2", "", `version label "2": want a letter first`},
		{"", "gold", `--default-version: "gold": want NAME:VERSION or NAME:LABEL`},
		{"", "gold:1,gold:2", `model "gold" has a default version already`},
		{"", "gold:-1", `version "-1": want a positive integer`},
		{"", "gold:stable", `default version label "stable" is not one of its labels`},
	} {
		got, err := modelOptions(tc.labels, tc.defaults, rolloutFlags{})
		s := fmt.Sprintf("%v", got)
		if err != nil {
			s = err.Error()
		}
		if !strings.Contains(s, tc.want) || (err == nil) != strings.HasPrefix(tc.want, "map[") {
			t.Errorf("modelOptions(%q, %q) = %s, want %s", tc.labels, tc.defaults, s, tc.want)
		}
	}
}

// TestRolloutFlags: --shadow, --shadow-rate and --canary parse, and every
// error names its flag.
func TestRolloutFlags(t *testing.T) {
	for _, tc := range []struct {
		f    rolloutFlags
		want string // a prefix of the options printed, or of the error
	}{
		{rolloutFlags{Shadow: "gold:2", ShadowRate: 0.1}, "map[gold:{map[] 0  2 0.1 0 0}]"},
		{rolloutFlags{Canary: "gold:2=10"}, "map[gold:{map[] 0  0 0 2 10}]"},
		{rolloutFlags{Shadow: "gold:2", ShadowRate: 1.5}, "--shadow-rate 1.5: want a number from 0 to 1"},
		{rolloutFlags{Shadow: "gold"}, `--shadow: "gold": want NAME:VERSION`},
		{rolloutFlags{Shadow: "gold:0"}, `--shadow: "gold:0": version "0": want a positive integer`},
		{rolloutFlags{Shadow: "gold:2,gold:3"}, `--shadow: "gold:3": model "gold" has a shadow version already`},
		{rolloutFlags{Canary: "gold:2"}, `--canary: "gold:2": want NAME:VERSION=PERCENT`},
		{rolloutFlags{Canary: "gold:2=101"}, `--canary: "gold:2=101": percent "101": want a number from 0 to 100`},
		{rolloutFlags{Canary: "gold:2=-1"}, `--canary: "gold:2=-1": percent "-1": want a number from 0 to 100`},
		{rolloutFlags{Canary: "gold:x=10"}, `--canary: "gold:x=10": version "x": want a positive integer`},
	} {
		got, err := modelOptions("", "", tc.f)
		s := fmt.Sprintf("%v", got)
		if err != nil {
			s = err.Error()
		}
		if !strings.HasPrefix(s, tc.want) || (err == nil) != strings.HasPrefix(tc.want, "map[") {
			t.Errorf("modelOptions(%+v) = %s, want %s", tc.f, s, tc.want)
		}
	}
}
