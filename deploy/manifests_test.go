package deploy

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

// Minimal Kubernetes shapes: only the fields the checks below read. Unknown
// fields are ignored; what matters is caught by the checks themselves.
type (
	objectMeta struct {
		Name        string            `yaml:"name"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	}
	Header struct {
		APIVersion string     `yaml:"apiVersion"`
		Kind       string     `yaml:"kind"`
		Metadata   objectMeta `yaml:"metadata"`
	}
	labelSelector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	}
	httpGet struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	}
	probe struct {
		HTTPGet          *httpGet `yaml:"httpGet"`
		PeriodSeconds    int      `yaml:"periodSeconds"`
		TimeoutSeconds   int      `yaml:"timeoutSeconds"`
		FailureThreshold int      `yaml:"failureThreshold"`
	}
	keyRef struct {
		Name     string `yaml:"name"`
		Key      string `yaml:"key"`
		Optional *bool  `yaml:"optional"`
	}
	envVar struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef    *keyRef `yaml:"secretKeyRef"`
			ConfigMapKeyRef *keyRef `yaml:"configMapKeyRef"`
		} `yaml:"valueFrom"`
	}
	securityContext struct {
		RunAsNonRoot             *bool  `yaml:"runAsNonRoot"`
		RunAsUser                *int64 `yaml:"runAsUser"`
		ReadOnlyRootFilesystem   *bool  `yaml:"readOnlyRootFilesystem"`
		AllowPrivilegeEscalation *bool  `yaml:"allowPrivilegeEscalation"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	}
	container struct {
		Name  string   `yaml:"name"`
		Image string   `yaml:"image"`
		Args  []string `yaml:"args"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		Env     []envVar `yaml:"env"`
		EnvFrom []struct {
			ConfigMapRef *struct {
				Name string `yaml:"name"`
			} `yaml:"configMapRef"`
		} `yaml:"envFrom"`
		Resources struct {
			Requests map[string]string `yaml:"requests"`
			Limits   map[string]string `yaml:"limits"`
		} `yaml:"resources"`
		StartupProbe    *probe           `yaml:"startupProbe"`
		ReadinessProbe  *probe           `yaml:"readinessProbe"`
		LivenessProbe   *probe           `yaml:"livenessProbe"`
		SecurityContext *securityContext `yaml:"securityContext"`
	}
	deployment struct {
		Header `yaml:",inline"`
		Spec   struct {
			Replicas *int          `yaml:"replicas"`
			Selector labelSelector `yaml:"selector"`
			Template struct {
				Metadata objectMeta `yaml:"metadata"`
				Spec     struct {
					TerminationGracePeriodSeconds *int            `yaml:"terminationGracePeriodSeconds"`
					SecurityContext               securityContext `yaml:"securityContext"`
					Containers                    []container     `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	service struct {
		Header `yaml:",inline"`
		Spec   struct {
			Selector map[string]string `yaml:"selector"`
			Ports    []struct {
				Name       string `yaml:"name"`
				Port       int    `yaml:"port"`
				TargetPort any    `yaml:"targetPort"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}
	hpa struct {
		Header `yaml:",inline"`
		Spec   struct {
			HPAScale `yaml:",inline"`
			Metrics  []struct {
				Type     string `yaml:"type"`
				Resource struct {
					Name   string `yaml:"name"`
					Target struct {
						Type               string `yaml:"type"`
						AverageUtilization int    `yaml:"averageUtilization"`
					} `yaml:"target"`
				} `yaml:"resource"`
			} `yaml:"metrics"`
		} `yaml:"spec"`
	}
	pdb struct {
		Header `yaml:",inline"`
		Spec   struct {
			MinAvailable   any           `yaml:"minAvailable"`
			MaxUnavailable any           `yaml:"maxUnavailable"`
			Selector       labelSelector `yaml:"selector"`
		} `yaml:"spec"`
	}
	configMap struct {
		Header `yaml:",inline"`
		Data   map[string]string `yaml:"data"`
	}
	kustomization struct {
		Header    `yaml:",inline"`
		Resources []string `yaml:"resources"`
		Images    []struct {
			Name string `yaml:"name"`
		} `yaml:"images"`
	}
)

// runningFacts is what the manifests are checked against: the real binary.
type runningFacts struct {
	bin      string
	srv      *server
	help     string // seqcast serve --help
	port     int    // the default --addr's port
	peakRSS  int64  // VmHWM after some requests, bytes
	makeBIN  string // the Makefile's BIN
	envNames map[string]bool
}

// TestManifests checks the Dockerfile, deploy/compose.yaml and every file in
// deploy/k8s against the Makefile, `seqcast serve --help` and a running
// server's routes.
func TestManifests(t *testing.T) {
	bin := needBinary(t)
	f := runningFacts{bin: bin, help: serveHelp(t, bin), envNames: map[string]bool{}}
	for _, m := range regexp.MustCompile(`\(env (SEQCAST_[A-Z0-9_]+)\)`).FindAllStringSubmatch(f.help, -1) {
		f.envNames[m[1]] = true
	}
	if len(f.envNames) < 10 {
		t.Fatalf("seqcast serve --help names only %d environment variables:\n%s", len(f.envNames), f.help)
	}
	f.port = hostPort(t, "default --addr", flagDefault(t, f.help, "addr"))
	f.srv = startServer(t, serveOptions{name: "manifests", path: bin})
	for i := range 20 {
		w := goldWindow(1850+float64(i), 500+i)
		checkSensible(t, f.srv.predict(t, w), w)
	}
	f.peakRSS, _ = f.srv.procStatus("VmHWM")

	mk, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^BIN\s*:?=\s*(\S+)\s*$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("Makefile: no BIN := line")
	}
	f.makeBIN = string(m[1])
	checkMakefile(t, string(mk))

	t.Run("Dockerfile", func(t *testing.T) { checkDockerfile(t, f) })
	t.Run("compose", func(t *testing.T) { checkCompose(t, f) })
	t.Run("kubernetes", func(t *testing.T) { checkKubernetes(t, f) })
	t.Run("kustomize", checkKustomizeBuild)
}

// isFile reports whether path is a regular file.
func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// checkKustomizeBuild renders the base with kustomize: the one make prepare
// installs (bin/tools/kustomize), else kustomize or `kubectl kustomize` from
// PATH. None of them is a failure (Debian's kubectl is too old for the base).
func checkKustomizeBuild(t *testing.T) {
	var render []string
	if kz, err := filepath.Abs(filepath.Join(repoRoot, "bin", "tools", "kustomize")); err == nil && isFile(kz) {
		render = []string{kz, "build"}
	} else if kz, err := exec.LookPath("kustomize"); err == nil {
		render = []string{kz, "build"}
	} else if kubectl, err := exec.LookPath("kubectl"); err == nil {
		render = []string{kubectl, "kustomize"}
	} else {
		unavailable(t, "no kustomize in bin/tools or on PATH, and no kubectl (make prepare installs kustomize)")
	}
	out, err := exec.Command(render[0], append(render[1:], "k8s")...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s k8s: %v\n%s", strings.Join(render, " "), err, out)
	}
	var kinds []string
	for _, doc := range strings.Split(string(out), "\n---\n") {
		var h Header
		if err := yaml.Unmarshal([]byte(doc), &h); err != nil {
			t.Fatalf("%s output: %v", strings.Join(render, " "), err)
		}
		kinds = append(kinds, h.Kind)
	}
	slices.Sort(kinds)
	want := []string{"ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service"}
	if !slices.Equal(kinds, want) {
		t.Errorf("%s rendered %q, want %q", strings.Join(render, " "), kinds, want)
	}
}

// checkMakefile checks the build target's flags: the Dockerfile runs that
// target, so they are the image's flags too.
func checkMakefile(t *testing.T, mk string) {
	t.Helper()
	_, after, ok := strings.Cut(mk, "\nbuild:")
	if !ok {
		t.Fatal("Makefile: no build target")
	}
	recipe, _, _ := strings.Cut(after, "\n\n")
	ldflags := regexp.MustCompile(`(?m)^LDFLAGS\s*:?=\s*(.*)$`).FindStringSubmatch(mk)
	if ldflags == nil {
		t.Fatal("Makefile: no LDFLAGS")
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-ldflags '$(LDFLAGS)'", "-o $(BIN)", "./cmd/seqcast"} {
		if !strings.Contains(recipe, want) {
			t.Errorf("Makefile build recipe %q lacks %q", strings.TrimSpace(recipe), want)
		}
	}
	for _, want := range []string{"-s", "-w", "-X main.version=$(VERSION)", "-X main.commit=$(COMMIT)", "-X main.date=$(DATE)"} {
		if !strings.Contains(" "+ldflags[1]+" ", " "+want+" ") {
			t.Errorf("Makefile LDFLAGS %q lacks %q", ldflags[1], want)
		}
	}
}

// dockerInstr is one Dockerfile instruction, continuation lines joined.
type dockerInstr struct {
	cmd  string // upper case
	args string
	line int
}

func parseDockerfile(t *testing.T, text string) []dockerInstr {
	t.Helper()
	var out []dockerInstr
	var cur strings.Builder
	start := 0
	for i, l := range strings.Split(text, "\n") {
		trim := strings.TrimSpace(l)
		if cur.Len() == 0 && (trim == "" || strings.HasPrefix(trim, "#")) {
			continue
		}
		if cur.Len() > 0 && strings.HasPrefix(trim, "#") {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if s, ok := strings.CutSuffix(trim, `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(trim)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerInstr{strings.ToUpper(cmd), strings.TrimSpace(args), start})
		cur.Reset()
	}
	return out
}

func checkDockerfile(t *testing.T, f runningFacts) {
	text, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	ins := parseDockerfile(t, string(text))
	// Split into stages; ARGs before the first FROM are global defaults.
	argDefaults := map[string]string{}
	type stage struct {
		from, name string
		ins        []dockerInstr
	}
	var stages []*stage
	for _, in := range ins {
		switch {
		case in.cmd == "ARG" && len(stages) == 0:
			k, v, _ := strings.Cut(in.args, "=")
			argDefaults[k] = v
		case in.cmd == "FROM":
			fields := strings.Fields(in.args)
			s := &stage{from: os.Expand(fields[0], func(k string) string { return argDefaults[k] })}
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				s.name = fields[2]
			}
			stages = append(stages, s)
		case len(stages) > 0:
			stages[len(stages)-1].ins = append(stages[len(stages)-1].ins, in)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("Dockerfile: %d stages, want a build stage and a final one", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]

	// The builder's Go is the module's Go (major.minor).
	gomod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVer := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if goVer == nil || build.from != "golang:"+string(goVer[1]) {
		t.Errorf("Dockerfile build stage FROM %q, want golang:%s (go.mod)", build.from, goVer[1])
	}
	// It runs the Makefile's build target (so the same flags) and nothing
	// else builds the binary.
	makes := 0
	for _, in := range build.ins {
		if in.cmd == "RUN" && regexp.MustCompile(`(^|[;&|(]\s*)make build(\s|$)`).MatchString(in.args) {
			makes++
		}
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			t.Errorf("Dockerfile line %d: runs go build itself; use make build so the flags cannot drift", in.line)
		}
	}
	if makes != 1 {
		t.Errorf("Dockerfile build stage runs `make build` %d times, want once", makes)
	}

	if final.from != "scratch" {
		t.Errorf("Dockerfile final stage FROM %q, want scratch", final.from)
	}
	got := map[string][]string{}
	for _, in := range final.ins {
		got[in.cmd] = append(got[in.cmd], in.args)
	}
	// COPY: the binary and the CA certificates, nothing else.
	var copiedBinary, copiedCAs bool
	for _, c := range got["COPY"] {
		fields := strings.Fields(c)
		if len(fields) != 3 || fields[0] != "--from="+build.name {
			t.Errorf("Dockerfile final COPY %q: want --from=%s SRC DST", c, build.name)
			continue
		}
		switch {
		case fields[2] == "/seqcast" && strings.HasSuffix(fields[1], "/"+f.makeBIN):
			copiedBinary = true
		case strings.HasPrefix(fields[2], "/etc/ssl/certs/") && strings.HasSuffix(fields[1], ".crt"):
			copiedCAs = true
		default:
			t.Errorf("Dockerfile final COPY %q: only the binary (%s) and CA certificates belong in the image", c, f.makeBIN)
		}
	}
	if !copiedBinary || !copiedCAs {
		t.Errorf("Dockerfile final stage copies binary %v, CA certificates %v; want both", copiedBinary, copiedCAs)
	}
	if u := got["USER"]; len(u) != 1 || dockerUID(u[0]) != nonRootUID {
		t.Errorf("Dockerfile USER %q, want numeric %d", u, nonRootUID)
	}
	if e := got["EXPOSE"]; len(e) != 1 || e[0] != strconv.Itoa(f.port) {
		t.Errorf("Dockerfile EXPOSE %q, want %d (the default --addr)", e, f.port)
	}
	if e := got["ENTRYPOINT"]; len(e) != 1 || e[0] != `["/seqcast"]` {
		t.Errorf("Dockerfile ENTRYPOINT %q, want [\"/seqcast\"]", e)
	}
	if c := got["CMD"]; len(c) != 1 || c[0] != `["serve"]` {
		t.Errorf("Dockerfile CMD %q, want [\"serve\"]", c)
	}
	if v := got["VOLUME"]; len(v) != 1 || !strings.Contains(v[0], `"/models"`) {
		t.Errorf("Dockerfile VOLUME %q, want /models", v)
	}
	if !strings.Contains(f.help, "-models-dir") || !f.envNames["SEQCAST_MODELS_DIR"] {
		t.Errorf("the /models volume needs serve's --models-dir / SEQCAST_MODELS_DIR, which --help does not list")
	}
	hc := got["HEALTHCHECK"]
	if len(hc) != 1 {
		t.Fatalf("Dockerfile HEALTHCHECK %q, want one", hc)
	}
	_, exe, ok := strings.Cut(hc[0], "CMD ")
	if !ok || !strings.HasPrefix(strings.TrimSpace(exe), `["/seqcast", "healthcheck"`) {
		t.Errorf("Dockerfile HEALTHCHECK %q, want CMD [\"/seqcast\", \"healthcheck\"...]", hc[0])
	}

	// The HEALTHCHECK command works: 0 against the running server (found
	// through SEQCAST_ADDR, as in a container configured by environment),
	// 1 against a port nothing listens on.
	healthcheck := func(env ...string) int {
		cmd := exec.Command(f.bin, "healthcheck")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		} else if err != nil {
			t.Fatalf("seqcast healthcheck: %v\n%s", err, out)
		}
		return 0
	}
	if code := healthcheck("SEQCAST_ADDR=" + f.srv.addr); code != 0 {
		t.Errorf("seqcast healthcheck against the running server: exit %d, want 0", code)
	}
	if code := healthcheck("SEQCAST_ADDR=127.0.0.1:" + strconv.Itoa(freePort(t))); code != 1 {
		t.Errorf("seqcast healthcheck against a closed port: exit %d, want 1", code)
	}
}

// dockerUID returns the numeric uid of a USER argument, or -1.
func dockerUID(user string) int {
	u, _, _ := strings.Cut(user, ":")
	n, err := strconv.Atoi(u)
	if err != nil {
		return -1
	}
	return n
}

func checkCompose(t *testing.T, f runningFacts) {
	var c struct {
		Services map[string]struct {
			Build *struct {
				Context    string `yaml:"context"`
				Dockerfile string `yaml:"dockerfile"`
			} `yaml:"build"`
			Image       string            `yaml:"image"`
			Command     []string          `yaml:"command"`
			Ports       []string          `yaml:"ports"`
			Environment map[string]string `yaml:"environment"`
			User        string            `yaml:"user"`
			ReadOnly    bool              `yaml:"read_only"`
			CapDrop     []string          `yaml:"cap_drop"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
			DependsOn map[string]any `yaml:"depends_on"`
		} `yaml:"services"`
	}
	path := "compose.yaml"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	s, ok := c.Services["seqcast"]
	if !ok {
		t.Fatalf("%s: no seqcast service", path)
	}
	if _, ok := c.Services["redis"]; !ok {
		t.Fatalf("%s: no redis service", path)
	}
	if s.Build == nil || filepath.Clean(s.Build.Context) != filepath.Clean(repoRoot) || s.Build.Dockerfile != "Dockerfile" {
		t.Errorf("%s: seqcast build %+v, want context %s and the repository's Dockerfile", path, s.Build, repoRoot)
	}
	if _, ok := s.DependsOn["redis"]; !ok {
		t.Errorf("%s: seqcast does not depend on redis", path)
	}
	if got, want := s.Environment["SEQCAST_REDIS_URL"], "redis://redis:6379/0"; got != want {
		t.Errorf("%s: SEQCAST_REDIS_URL %q, want %q", path, got, want)
	}
	checkEnvNames(t, path, f, mapsKeys(s.Environment))
	if a := s.Environment["SEQCAST_ADDR"]; a != "" && hostPort(t, path+" SEQCAST_ADDR", a) != f.port {
		t.Errorf("%s: SEQCAST_ADDR %q: port differs from the published %d", path, a, f.port)
	}
	published := false
	for _, p := range s.Ports {
		parts := strings.Split(p, ":")
		if parts[len(parts)-1] == strconv.Itoa(f.port) {
			published = true
		}
	}
	if !published {
		t.Errorf("%s: ports %q do not publish container port %d", path, s.Ports, f.port)
	}
	if dockerUID(s.User) != nonRootUID || !s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") {
		t.Errorf("%s: user %q read_only %v cap_drop %q; want %d, true, ALL", path, s.User, s.ReadOnly, s.CapDrop, nonRootUID)
	}
	if len(s.Healthcheck.Test) < 3 || s.Healthcheck.Test[0] != "CMD" || s.Healthcheck.Test[1] != "/seqcast" || s.Healthcheck.Test[2] != "healthcheck" {
		t.Errorf("%s: healthcheck %q, want [CMD /seqcast healthcheck]", path, s.Healthcheck.Test)
	}
}

func checkKubernetes(t *testing.T, f runningFacts) {
	dir := "k8s"
	files, err := filepath.Glob(filepath.Join(dir, "*.y*ml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s: %v", dir, err)
	}
	var (
		kust    kustomization
		deps    []deployment
		svcs    []service
		hpas    []hpa
		pdbs    []pdb
		cms     []configMap
		listed  = map[string]bool{}
		decoded = map[string]string{} // file -> kind
	)
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var h Header
		if err := yaml.Unmarshal(b, &h); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		decoded[file] = h.Kind
		var target any
		switch h.Kind {
		case "Kustomization":
			target = &kust
		case "Deployment":
			deps = append(deps, deployment{})
			target = &deps[len(deps)-1]
		case "Service":
			svcs = append(svcs, service{})
			target = &svcs[len(svcs)-1]
		case "HorizontalPodAutoscaler":
			hpas = append(hpas, hpa{})
			target = &hpas[len(hpas)-1]
		case "PodDisruptionBudget":
			pdbs = append(pdbs, pdb{})
			target = &pdbs[len(pdbs)-1]
		case "ConfigMap":
			cms = append(cms, configMap{})
			target = &cms[len(cms)-1]
		default:
			t.Errorf("%s: unexpected kind %q", file, h.Kind)
			continue
		}
		if err := yaml.Unmarshal(b, target); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if h.Kind != "Kustomization" && (h.APIVersion == "" || h.Metadata.Name == "") {
			t.Errorf("%s: apiVersion %q, metadata.name %q: both required", file, h.APIVersion, h.Metadata.Name)
		}
	}
	if len(deps) != 1 || len(svcs) != 1 || len(hpas) != 1 || len(pdbs) != 1 || len(cms) != 1 || kust.Kind == "" {
		t.Fatalf("%s: want one each of Kustomization, Deployment, Service, HPA, PDB, ConfigMap; got %v", dir, decoded)
	}
	// The kustomization lists every other manifest.
	for _, r := range kust.Resources {
		listed[filepath.Join(dir, r)] = true
		if _, ok := decoded[filepath.Join(dir, r)]; !ok {
			t.Errorf("kustomization.yaml lists %s, which does not exist", r)
		}
	}
	for file, kind := range decoded {
		if kind != "Kustomization" && !listed[file] {
			t.Errorf("kustomization.yaml does not list %s", file)
		}
	}

	d, svc, h, p, cm := deps[0], svcs[0], hpas[0], pdbs[0], cms[0]
	spec := d.Spec.Template.Spec
	podLabels := d.Spec.Template.Metadata.Labels
	if d.APIVersion != "apps/v1" || h.APIVersion != "autoscaling/v2" || p.APIVersion != "policy/v1" {
		t.Errorf("apiVersions: Deployment %s, HPA %s, PDB %s; want apps/v1, autoscaling/v2, policy/v1", d.APIVersion, h.APIVersion, p.APIVersion)
	}
	for what, sel := range map[string]map[string]string{
		"Deployment selector": d.Spec.Selector.MatchLabels, "Service selector": svc.Spec.Selector, "PDB selector": p.Spec.Selector.MatchLabels,
	} {
		if len(sel) == 0 || !subset(sel, podLabels) {
			t.Errorf("%s %v does not match the pod labels %v", what, sel, podLabels)
		}
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("Deployment: %d containers, want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	if len(kust.Images) == 0 || strings.Split(c.Image, ":")[0] != kust.Images[0].Name {
		t.Errorf("container image %q is not the kustomization's images[0] %v", c.Image, kust.Images)
	}
	if !slices.Equal(c.Args, []string{"serve"}) {
		t.Errorf("container args %q, want [serve]", c.Args)
	}

	// Ports: the container's is the server's default port, the Service and
	// every probe reach it.
	portNames := map[string]int{}
	for _, cp := range c.Ports {
		portNames[cp.Name] = cp.ContainerPort
	}
	if portNames["http"] != f.port {
		t.Errorf("container port http = %d, want %d (serve's default --addr)", portNames["http"], f.port)
	}
	resolve := func(port any) int {
		switch v := port.(type) {
		case string:
			if n, ok := portNames[v]; ok {
				return n
			}
			n, _ := strconv.Atoi(v)
			return n
		default:
			n, _ := strconv.Atoi(fmt.Sprint(v))
			return n
		}
	}
	if len(svc.Spec.Ports) != 1 || resolve(svc.Spec.Ports[0].TargetPort) != f.port {
		t.Errorf("Service ports %+v: targetPort must reach container port %d", svc.Spec.Ports, f.port)
	}
	if a := d.Spec.Template.Metadata.Annotations["prometheus.io/port"]; a != "" && a != strconv.Itoa(f.port) {
		t.Errorf("prometheus.io/port %q, want %d", a, f.port)
	}
	for _, pr := range []struct {
		name string
		p    *probe
		path string
	}{
		{"startupProbe", c.StartupProbe, "/ready"},
		{"readinessProbe", c.ReadinessProbe, "/ready"},
		{"livenessProbe", c.LivenessProbe, "/health"},
	} {
		if pr.p == nil || pr.p.HTTPGet == nil {
			t.Errorf("%s: missing or not httpGet", pr.name)
			continue
		}
		if pr.p.HTTPGet.Path != pr.path {
			t.Errorf("%s path %q, want %s", pr.name, pr.p.HTTPGet.Path, pr.path)
		}
		if port := resolve(pr.p.HTTPGet.Port); port != f.port {
			t.Errorf("%s port %v = %d, want %d", pr.name, pr.p.HTTPGet.Port, port, f.port)
		}
		// The running server answers it with 200.
		if code, body := f.srv.get(t, pr.p.HTTPGet.Path); code != 200 {
			t.Errorf("%s: GET %s on the running server: %d %s", pr.name, pr.p.HTTPGet.Path, code, body)
		}
	}

	// Security: non-root (the image's uid), read-only root, no capabilities.
	sc := c.SecurityContext
	if sc == nil {
		t.Fatal("container has no securityContext")
	}
	nonRoot := (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) || (spec.SecurityContext.RunAsNonRoot != nil && *spec.SecurityContext.RunAsNonRoot)
	uid := spec.SecurityContext.RunAsUser
	if sc.RunAsUser != nil {
		uid = sc.RunAsUser
	}
	if !nonRoot || uid == nil || *uid != nonRootUID {
		t.Errorf("runAsNonRoot %v, runAsUser %v; want true and %d (the Dockerfile's USER)", nonRoot, uid, nonRootUID)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("readOnlyRootFilesystem is not true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation is not false")
	}
	if !slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) {
		t.Errorf("capabilities.drop %q, want [ALL]", sc.Capabilities.Drop)
	}

	// Resources from measured memory: the request covers the serving peak,
	// the limit leaves room for bursts, GOMEMLIMIT sits below the limit.
	for _, k := range []string{"cpu", "memory"} {
		if c.Resources.Requests[k] == "" {
			t.Errorf("resources.requests.%s missing (the HPA needs the CPU request)", k)
		}
	}
	req := quantity(t, c.Resources.Requests["memory"])
	lim := quantity(t, c.Resources.Limits["memory"])
	if f.peakRSS > 0 && (req < f.peakRSS || lim < 4*f.peakRSS) {
		t.Errorf("memory request %d / limit %d bytes for a measured peak RSS of %d: want request >= peak, limit >= 4x peak", req, lim, f.peakRSS)
	}
	if g := cm.Data["GOMEMLIMIT"]; g != "" && quantity(t, strings.TrimSuffix(strings.ReplaceAll(g, "iB", "i"), "B")) >= lim {
		t.Errorf("GOMEMLIMIT %s is not below the memory limit %s", g, c.Resources.Limits["memory"])
	}
	t.Logf("peak RSS of the running server after 20 predictions: %.1f MiB; memory request %s, limit %s", float64(f.peakRSS)/(1<<20), c.Resources.Requests["memory"], c.Resources.Limits["memory"])

	// Settings: every variable exists; secrets come from an optional Secret.
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].ConfigMapRef == nil || c.EnvFrom[0].ConfigMapRef.Name != cm.Metadata.Name {
		t.Errorf("container envFrom does not reference ConfigMap %q", cm.Metadata.Name)
	}
	names := mapsKeys(cm.Data)
	secretRefs := map[string]bool{}
	for _, e := range c.Env {
		names = append(names, e.Name)
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			if r := e.ValueFrom.SecretKeyRef; r.Optional == nil || !*r.Optional || r.Name == "" || r.Key == "" {
				t.Errorf("env %s: secretKeyRef %+v must name a key and be optional", e.Name, r)
			}
			secretRefs[e.Name] = true
		}
	}
	checkEnvNames(t, "deployment + configmap", f, names)
	for _, want := range []string{"SEQCAST_API_KEYS", "SEQCAST_REDIS_URL"} {
		if !secretRefs[want] {
			t.Errorf("%s is not taken from a Secret (secretKeyRef)", want)
		}
		if _, ok := cm.Data[want]; ok {
			t.Errorf("%s is in the ConfigMap: it is a secret", want)
		}
	}
	if a := cm.Data["SEQCAST_ADDR"]; a != "" && hostPort(t, "ConfigMap SEQCAST_ADDR", a) != f.port {
		t.Errorf("ConfigMap SEQCAST_ADDR %q: port differs from container port %d", a, f.port)
	}

	// Termination: the pod gets the shutdown delay and the drain timeout,
	// plus a margin, before SIGKILL.
	setting := func(flagName, env string) time.Duration {
		v := cm.Data[env]
		if v == "" {
			v = flagDefault(t, f.help, flagName)
		}
		dur, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("%s %q: %v", env, v, err)
		}
		return dur
	}
	need := setting("drain-timeout", "SEQCAST_DRAIN_TIMEOUT") + setting("shutdown-delay", "SEQCAST_SHUTDOWN_DELAY")
	grace := -1 * time.Second
	if g := spec.TerminationGracePeriodSeconds; g != nil {
		grace = time.Duration(*g) * time.Second
	}
	if grace < need+2*time.Second || grace > need+60*time.Second {
		t.Errorf("terminationGracePeriodSeconds %v (-1s: unset): want shutdown delay + drain timeout (%v) plus a margin of 2 to 60 s", grace, need)
	}

	// Autoscaling and disruption budget.
	if h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.Name != d.Metadata.Name {
		t.Errorf("HPA targets %+v, want Deployment %s", h.Spec.ScaleTargetRef, d.Metadata.Name)
	}
	cpu := false
	for _, m := range h.Spec.Metrics {
		if m.Type == "Resource" && m.Resource.Name == "cpu" && m.Resource.Target.Type == "Utilization" && m.Resource.Target.AverageUtilization > 0 {
			cpu = true
		}
	}
	if !cpu || h.Spec.MinReplicas < 2 || h.Spec.MaxReplicas < h.Spec.MinReplicas {
		t.Errorf("HPA: cpu utilization target %v, replicas %d..%d; want a CPU target and 2 <= min <= max", cpu, h.Spec.MinReplicas, h.Spec.MaxReplicas)
	}
	if d.Spec.Replicas != nil {
		t.Errorf("Deployment sets replicas: %d; the HPA owns the count", *d.Spec.Replicas)
	}
	if minAv, err := strconv.Atoi(fmt.Sprint(p.Spec.MinAvailable)); p.Spec.MaxUnavailable == nil && (err != nil || minAv < 1 || minAv >= h.Spec.MinReplicas) {
		t.Errorf("PDB minAvailable %v: want 1 <= it < the HPA minimum %d, so nodes can still drain", p.Spec.MinAvailable, h.Spec.MinReplicas)
	}
}

// checkEnvNames fails for a SEQCAST_ variable `seqcast serve --help` does
// not document, or for an unexpected non-seqcast one.
func checkEnvNames(t *testing.T, where string, f runningFacts, names []string) {
	t.Helper()
	goRuntime := map[string]bool{"GOMEMLIMIT": true, "GOMAXPROCS": true, "GOGC": true, "GODEBUG": true}
	for _, n := range names {
		switch {
		case strings.HasPrefix(n, "SEQCAST_"):
			if !f.envNames[n] {
				t.Errorf("%s sets %s, which seqcast serve --help does not document", where, n)
			}
		case !goRuntime[n]:
			t.Errorf("%s sets %s: neither a SEQCAST_ setting nor a Go runtime variable", where, n)
		}
	}
}

// hostPort returns the port of a listen address.
func hostPort(t *testing.T, what, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	n, err2 := strconv.Atoi(p)
	if err != nil || err2 != nil {
		t.Fatalf("%s %q: not host:port", what, addr)
	}
	return n
}

// quantity parses a Kubernetes memory quantity (64Mi, 1Gi, 500M, 1048576).
func quantity(t *testing.T, q string) int64 {
	t.Helper()
	units := []struct {
		suffix string
		mult   int64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(q, u.suffix); ok {
			v, err := strconv.ParseInt(n, 10, 64)
			if err != nil {
				t.Fatalf("quantity %q: %v", q, err)
			}
			return v * u.mult
		}
	}
	v, err := strconv.ParseInt(q, 10, 64)
	if err != nil {
		t.Fatalf("quantity %q: %v", q, err)
	}
	return v
}

func subset(sub, super map[string]string) bool {
	for k, v := range sub {
		if super[k] != v {
			return false
		}
	}
	return true
}

func mapsKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// HPAScale is what every HorizontalPodAutoscaler spec here is checked for: its
// target and its replica range (the k8s base's CPU HPA and KServe's queue-depth one).
type HPAScale struct {
	ScaleTargetRef struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Name       string `yaml:"name"`
	} `yaml:"scaleTargetRef"`
	MinReplicas int `yaml:"minReplicas"`
	MaxReplicas int `yaml:"maxReplicas"`
}
