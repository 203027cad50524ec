package deploy

import (
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestStaticBinary checks that `make build` gives a static, stripped,
// cgo-free, -trimpath binary stamped with its version.
func TestStaticBinary(t *testing.T) {
	bin := needBinary(t)

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			t.Errorf("%s has a PT_INTERP program header: it needs a dynamic loader", bin)
		case elf.PT_DYNAMIC:
			t.Errorf("%s has a PT_DYNAMIC program header: it is dynamically linked", bin)
		}
	}
	for _, name := range []string{".interp", ".dynamic", ".dynsym"} {
		if f.Section(name) != nil {
			t.Errorf("%s has a %s section", bin, name)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s imports shared libraries %q", bin, libs)
	}
	if f.Section(".symtab") != nil {
		t.Errorf("%s has a .symtab section: not stripped (-ldflags -s)", bin)
	}

	// The Go toolchain records the build settings in the binary: check
	// that they are the Makefile's.
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if settings["CGO_ENABLED"] != "0" {
		t.Errorf("built with CGO_ENABLED=%q, want 0", settings["CGO_ENABLED"])
	}
	if settings["-trimpath"] != "true" {
		t.Errorf("built without -trimpath (settings %v)", settings)
	}
	// -trimpath keeps -ldflags out of the build info: check their effects.
	// -s: no symbol table (above); -w: no DWARF; -X: `seqcast version`.
	for _, sec := range f.Sections {
		if strings.HasPrefix(sec.Name, ".debug_") || strings.HasPrefix(sec.Name, ".zdebug_") {
			t.Errorf("%s has DWARF section %s: built without -ldflags -w", bin, sec.Name)
			break
		}
	}

	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("seqcast version: %v\n%s", err, out)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	if first != "seqcast "+testVersion {
		t.Errorf("seqcast version printed %q first, want %q", first, "seqcast "+testVersion)
	}
	if !strings.Contains(string(out), "commit: "+testCommit) {
		t.Errorf("seqcast version does not show commit %s:\n%s", testCommit, out)
	}

	st, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("binary size: %d bytes (%.1f MiB), %s/%s, %s", st.Size(), float64(st.Size())/(1<<20), settings["GOOS"], settings["GOARCH"], bi.GoVersion)
}

// nonRootUID is the numeric user of the scratch image (Dockerfile USER) and
// of the Kubernetes pod (runAsUser).
const nonRootUID = 65532

// TestServeFromEmptyRoot is what FROM scratch gives the binary: it is copied
// alone into an empty directory and run under chroot as an unprivileged
// user who cannot write there (a read-only root filesystem). It must serve
// the embedded gold model: /ready 200, a sensible /predict.
func TestServeFromEmptyRoot(t *testing.T) {
	bin := needBinary(t)
	if os.Geteuid() != 0 {
		// chrootAttr falls back to a user namespace: check it works here.
		probe := exec.Command("/seqcast-not-there")
		probe.SysProcAttr = chrootAttr(t.TempDir(), 0)
		if err := probe.Run(); err != nil && !errors.Is(err, fs.ErrNotExist) {
			unavailable(t, "chroot needs root or an unprivileged user namespace (euid %d): %v", os.Geteuid(), err)
		}
	}
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "seqcast"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(root)
	if err != nil || len(entries) != 1 {
		t.Fatalf("the root must hold only the binary: %v %v", entries, err)
	}

	s := startServer(t, serveOptions{name: "chroot", path: "/seqcast", chroot: root, uid: nonRootUID})

	code, body := s.get(t, "/ready")
	if code != 200 {
		t.Fatalf("/ready: %d %s", code, body)
	}
	if code, body := s.get(t, "/health"); code != 200 {
		t.Errorf("/health: %d %s", code, body)
	}
	// The image's HEALTHCHECK, run the way the container runtime would:
	// inside the same root, as the same user, configured by environment.
	hc := exec.Command("/seqcast", "healthcheck")
	hc.Env = []string{"SEQCAST_ADDR=" + s.addr}
	hc.Dir = "/"
	hc.SysProcAttr = chrootAttr(root, nonRootUID)
	if out, err := hc.CombinedOutput(); err != nil {
		t.Errorf("seqcast healthcheck inside the root: %v\n%s", err, out)
	}

	w := goldWindow(1900, 0)
	p := s.predict(t, w)
	checkSensible(t, p, w)
	if p.Cached {
		t.Errorf("first prediction says cached")
	}
	if again := s.predict(t, w); !again.Cached || again.PredictedPrice != p.PredictedPrice {
		t.Errorf("second identical prediction: %+v, want the first (%v) cached", again, p.PredictedPrice)
	}
	// A few more distinct windows so that the RSS below is a serving RSS.
	for i := 1; i <= 50; i++ {
		w := goldWindow(1700+4*float64(i), i)
		checkSensible(t, s.predict(t, w), w)
	}
	rss, _ := s.procStatus("VmRSS")
	hwm, _ := s.procStatus("VmHWM")
	// Nothing may have been written into the root (the user cannot).
	entries, _ = os.ReadDir(root)
	if len(entries) != 1 {
		t.Errorf("the server created files in its root: %v", entries)
	}
	s.stopGracefully(t)

	st, _ := os.Stat(bin)
	who := fmt.Sprintf("uid %d", nonRootUID)
	if os.Geteuid() != 0 {
		who = "the caller, root in a user namespace"
	}
	t.Logf("served from an empty root as %s: binary %.1f MiB, start to /ready %v, RSS after 52 predictions %.1f MiB (peak %.1f MiB), predicted %.2f after %.2f",
		who, float64(st.Size())/(1<<20), s.readyAfter.Round(100_000), float64(rss)/(1<<20), float64(hwm)/(1<<20), p.PredictedPrice, w[len(w)-1])
}
