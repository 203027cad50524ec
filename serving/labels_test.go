package serving

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// versionsDir makes a models dir with gold versions 1 and 2 and other
// version 5, all copies of the bench gold bundle.
func versionsDir(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	copyDir(t, benchGold, filepath.Join(root, "gold", "1"), nil)
	copyDir(t, benchGold, filepath.Join(root, "gold", "2"), map[string]string{BacktestFile: backtestJSON})
	copyDir(t, benchGold, filepath.Join(root, "other", "5"), nil)
	return root
}

func TestLabelsAndDefaultVersion(t *testing.T) {
	root := versionsDir(t)
	ctx := context.Background()
	reg := NewRegistry(Options{Models: map[string]ModelOptions{
		"gold":  {Labels: map[string]int64{"stable": 1, "canary": 2}, DefaultLabel: "stable"},
		"other": {Labels: map[string]int64{"stable": 5}},
	}}, ModelsDir(root))
	if err := reg.Load(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, label string
		want        int64
	}{{"gold", "stable", 1}, {"gold", "canary", 2}, {"", "canary", 2}, {"other", "stable", 5}} {
		m, err := reg.GetLabel(tc.name, tc.label)
		if err != nil || m.Version() != tc.want {
			t.Errorf("GetLabel(%q, %q): %v, %v; want version %d", tc.name, tc.label, m, err, tc.want)
		}
	}
	if m, err := reg.Get("gold", 0); err != nil || m.Version() != 1 {
		t.Fatalf("default version: %v %v, want 1 (pinned by the stable label)", m, err)
	}
	if m, err := reg.Get("other", 0); err != nil || m.Version() != 5 {
		t.Fatalf("other default: %v %v", m, err)
	}
	for _, tc := range []struct {
		name, label string
		version     int64
		want        NotFoundError
	}{
		{"gold", "beta", 0, NotFoundError{Model: "gold", Label: "beta", Served: "canary=2, stable=1"}},
		{"gold", "", 9, NotFoundError{Model: "gold", Version: 9, Served: "1, 2"}},
		{"nope", "", 1, NotFoundError{Model: "nope", Served: "gold, other"}},
		{"nope", "stable", 0, NotFoundError{Model: "nope", Served: "gold, other"}},
	} {
		var err error
		if tc.label != "" {
			_, err = reg.GetLabel(tc.name, tc.label)
		} else {
			_, err = reg.Get(tc.name, tc.version)
		}
		var nf *NotFoundError
		if !errors.As(err, &nf) || *nf != tc.want || !errors.Is(err, ErrNotFound) {
			t.Errorf("%s/%s/%d: %#v, want %#v", tc.name, tc.label, tc.version, err, tc.want)
		}
	}
	st, err := reg.Status("gold")
	if err != nil || st.DefaultVer != 1 || len(st.Labels) != 2 || st.Labels["canary"] != 2 {
		t.Fatalf("status %+v %v", st, err)
	}
	st.Labels["canary"] = 1 // a copy: the registry is not changed
	if m, _ := reg.GetLabel("gold", "canary"); m.Version() != 2 {
		t.Fatal("Status handed out the registry's own label map")
	}
	if all := reg.Statuses(); len(all) != 2 || all[0].Name != "gold" || all[1].Name != "other" || all[1].Labels["stable"] != 5 {
		t.Fatalf("statuses %+v", all)
	}

	// A reload that would leave a label dangling keeps the old versions.
	if err := os.RemoveAll(filepath.Join(root, "gold", "2")); err != nil {
		t.Fatal(err)
	}
	err = reg.Reload(ctx, "gold")
	if err == nil || !strings.Contains(err.Error(), `label "canary" points to version 2, which is not loaded (loaded: 1)`) {
		t.Fatalf("reload without the canary version: %v", err)
	}
	if m, err := reg.GetLabel("gold", "canary"); err != nil || m.Version() != 2 {
		t.Fatalf("canary after the failed reload: %v %v", m, err)
	}
}

func TestDefaultVersionPinned(t *testing.T) {
	root := versionsDir(t)
	reg := NewRegistry(Options{Models: map[string]ModelOptions{"gold": {DefaultVersion: 1}}}, ModelsDir(root))
	if err := reg.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m, _ := reg.Get("", 0); m.Version() != 1 {
		t.Fatalf("default version %d, want 1", m.Version())
	}
	if m, _ := reg.Get("gold", 2); m.Version() != 2 {
		t.Fatal("version 2 unreachable")
	}
	// A new version 3 is loaded but does not take the traffic.
	copyDir(t, benchGold, filepath.Join(root, "gold", "3"), nil)
	if err := reg.Reload(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if m, _ := reg.Get("gold", 0); m.Version() != 1 {
		t.Fatalf("after loading version 3 the default is %d, want 1", m.Version())
	}
	if m, err := reg.Get("gold", 3); err != nil || m.Version() != 3 {
		t.Fatalf("version 3: %v", err)
	}
}

func TestModelOptionsRefused(t *testing.T) {
	root := versionsDir(t)
	for _, tc := range []struct {
		name string
		opts map[string]ModelOptions
		want string
	}{
		{"label on a version not loaded", map[string]ModelOptions{"gold": {Labels: map[string]int64{"canary": 3}}},
			`model "gold": label "canary" points to version 3, which is not loaded (loaded: 1, 2)`},
		{"default version not loaded", map[string]ModelOptions{"gold": {DefaultVersion: 7}},
			`model "gold": default version 7 is not loaded (loaded: 1, 2)`},
		{"model not served", map[string]ModelOptions{"silver": {Labels: map[string]int64{"stable": 1}}},
			`model "silver", which is not served (serving gold, other)`},
		{"numeric label", map[string]ModelOptions{"gold": {Labels: map[string]int64{"2": 2}}},
			`version label "2": want a letter first`},
		{"label with a colon", map[string]ModelOptions{"gold": {Labels: map[string]int64{"a:b": 2}}},
			`version label "a:b": want a letter first`},
		{"zero version", map[string]ModelOptions{"gold": {Labels: map[string]int64{"stable": 0}}},
			`label "stable": version 0: want a positive integer`},
		{"default label unknown", map[string]ModelOptions{"gold": {DefaultLabel: "stable"}},
			`default version label "stable" is not one of its labels (none)`},
		{"default twice", map[string]ModelOptions{"gold": {Labels: map[string]int64{"stable": 1}, DefaultLabel: "stable", DefaultVersion: 2}},
			`default version given twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := NewRegistry(Options{Models: tc.opts}, ModelsDir(root)).Load(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestCheckLabel(t *testing.T) {
	for _, tc := range []struct {
		label string
		ok    bool
	}{
		{"stable", true}, {"canary-2", true}, {"v1.2_rc", true}, {"A", true}, {strings.Repeat("a", MaxLabelLen), true},
		{"", false}, {"2", false}, {"2.0", false}, {"-x", false}, {"_x", false}, {"a b", false}, {"a/b", false},
		{"läbel", false}, {strings.Repeat("a", MaxLabelLen+1), false},
	} {
		if err := CheckLabel(tc.label); (err == nil) != tc.ok {
			t.Errorf("CheckLabel(%q) = %v, want ok %v", tc.label, err, tc.ok)
		}
	}
}
