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
		{"gold:stable=1,canary=2", "", "map[gold:{map[canary:2 stable:1] 0 }]"},
		{"gold:stable=1,canary=2,other:stable=3", "", "map[gold:{map[canary:2 stable:1] 0 } other:{map[stable:3] 0 }]"},
		{" gold : stable = 1 , canary=2 ", "gold:canary", "map[gold:{map[canary:2 stable:1] 0 canary}]"},
		{"", "gold:2,other:4", "map[gold:{map[] 2 } other:{map[] 4 }]"},
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
		got, err := modelOptions(tc.labels, tc.defaults)
		s := fmt.Sprintf("%v", got)
		if err != nil {
			s = err.Error()
		}
		if !strings.Contains(s, tc.want) || (err == nil) != strings.HasPrefix(tc.want, "map[") {
			t.Errorf("modelOptions(%q, %q) = %s, want %s", tc.labels, tc.defaults, s, tc.want)
		}
	}
}
