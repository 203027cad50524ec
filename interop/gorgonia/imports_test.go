package gorgonia_test

import (
	"os/exec"
	"strings"
	"testing"
)

// dep is one package in a `go list -deps` listing.
type dep struct{ pkg, module, version string }

// goListDeps lists pkg and every package it depends on, with their modules,
// failing the test if there is no go command.
func goListDeps(t *testing.T, pkg string) []dep {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("go command not found on PATH:", err)
	}
	out, err := exec.Command(goBin, "list", "-e", "-deps",
		"-f", "{{.ImportPath}} {{with .Module}}{{.Path}} {{.Version}}{{end}}", pkg).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, ee.Stderr)
		}
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	var deps []dep
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := append(strings.Fields(l), "", "", "")
		deps = append(deps, dep{pkg: f[0], module: f[1], version: f[2]})
	}
	if len(deps) < 2 {
		t.Fatalf("go list -deps %s listed %d packages; want the package and its dependencies", pkg, len(deps))
	}
	return deps
}

// TestSeqcastBinaryHasNoGorgonia guards the reason this package exists on its
// own: the seqcast command must not link gorgonia.org/tensor (about 10 MB,
// and an init-time panic risk through go4.org/unsafe/assume-no-moving-gc).
func TestSeqcastBinaryHasNoGorgonia(t *testing.T) {
	const cmd = "github.com/seqcast/seqcast/cmd/seqcast"
	for _, d := range goListDeps(t, cmd) {
		switch {
		case strings.HasPrefix(d.module, "gorgonia.org/"),
			d.module == "go4.org/unsafe/assume-no-moving-gc",
			d.pkg == "github.com/seqcast/seqcast/interop/gorgonia":
			t.Errorf("%s depends on %s (module %s); only programs that import interop/gorgonia may", cmd, d.pkg, d.module)
		}
	}
}
