package serving

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seqcast/seqcast/kerasconfig"
	"github.com/seqcast/seqcast/layers"
)

// Version states, as TensorFlow Serving reports them.
const (
	StateAvailable   = "AVAILABLE"
	StateLoading     = "LOADING"
	StateUnavailable = "UNAVAILABLE"
	// StateEnd is a version that was served and has been unloaded (its
	// folder was removed): TF Serving's END, "the end of its journey".
	StateEnd = "END"
)

// DefaultEndRetention is how long an unloaded version keeps being reported
// with state END when Options.EndRetention is zero.
const DefaultEndRetention = time.Hour

// maxEnded bounds the unloaded versions remembered per model name.
const maxEnded = 32

// Options configures a Registry. The zero value is usable.
type Options struct {
	// Default names the model served when a request names none. Empty: "gold"
	// if present, else the first name in alphabetical order.
	Default string
	// Observer, if set, is told about every forward pass of every model.
	Observer ForwardObserver
	// Logger receives load and reload events (default: discard).
	Logger *slog.Logger
	// Batch configures dynamic batching (off in the zero value); every
	// loaded version gets its own batch queue.
	Batch BatchOptions
	// BatchObserver, if set, is told about every merged forward pass.
	BatchObserver BatchObserver
	// Admission, if set, is the admission control every model's forward
	// work goes through (NewAdmission); nil computes every request at once.
	Admission *Admission
	// Models holds per-model settings (version labels, default version) by
	// model name. Every name must be served: Load fails otherwise.
	Models map[string]ModelOptions
	// EndRetention is how long a version that was unloaded (removed from its
	// source) keeps being reported in Status with state END, unless it is
	// loaded again first (default DefaultEndRetention; at most 32 per model).
	EndRetention time.Duration
	// Layers adds layer classes of the program's own (package layers) to
	// the built-in ones, for every model the registry loads: a Keras file
	// or bundle whose config uses one then loads.
	Layers layers.Set
}

// VersionStatus is one version's state in the TF Serving status format.
type VersionStatus struct {
	Version int64
	State   string
	Error   string // the last load error, "" when fine
}

// ModelStatus describes one model name: the versions being served and the
// outcome of the last load attempt.
type ModelStatus struct {
	Name       string
	Versions   []VersionStatus // highest first
	LastLoad   time.Time
	LastError  string // why the last (re)load failed; "" if it succeeded
	Origins    []string
	DefaultVer int64            // the version a request naming none gets
	Labels     map[string]int64 // version labels, label -> version
	Rollout                     // canary and shadow versions (shadow.go)
}

// Registry serves named, versioned models. Reads are lock-free: a reload
// builds a complete new set of models beside the old one and swaps a pointer,
// so in-flight requests finish on the model they started with.
type Registry struct {
	sources []Source
	opts    Options
	state   atomic.Pointer[snapshot]
	mu      sync.Mutex // serialises Load and Reload
	loaded  atomic.Bool
}

type snapshot struct {
	sets  map[string]*modelSet
	names []string
	def   string
	ended map[string][]endedVersion // unloaded versions by model name, newest last
}

// endedVersion is a version that was served and has been unloaded.
type endedVersion struct {
	version int64
	origin  string
	at      time.Time
}

type modelSet struct {
	name     string
	versions map[int64]*Model
	latest   *Model
	def      *Model           // served to requests naming no version
	labels   map[string]int64 // version labels (every one names a loaded version)
	rollout  rollout          // canary and shadow versions (shadow.go)
	loadedAt time.Time
	lastErr  string
}

// NewRegistry returns a registry over the given sources; call Load before
// serving.
func NewRegistry(opts Options, sources ...Source) *Registry {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.EndRetention <= 0 {
		opts.EndRetention = DefaultEndRetention
	}
	r := &Registry{sources: sources, opts: opts}
	r.state.Store(&snapshot{sets: map[string]*modelSet{}})
	return r
}

// Load loads, self-tests and warms up every bundle the sources offer. It
// fails if any bundle fails; the registry is Ready only after it succeeded.
func (r *Registry) Load(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.opts.Validate(); err != nil {
		return err
	}
	found, err := r.scan()
	if err != nil {
		return err
	}
	sets := map[string]*modelSet{}
	var errs []error
	for _, name := range namesOf(found) {
		set, err := r.loadSet(ctx, name, found)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sets[name] = set
	}
	for _, n := range sortedKeys(r.opts.Models) {
		if _, ok := sets[n]; !ok && len(errs) == 0 {
			errs = append(errs, fmt.Errorf("serving: version labels or a default version are set for model %q, which is not served (serving %s)",
				n, strings.Join(namesOf(found), ", ")))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	snap, err := r.newSnapshot(sets, nil)
	if err != nil {
		return err
	}
	r.state.Store(snap)
	r.loaded.Store(true)
	return nil
}

// Reload rescans the sources and reloads the named model (every model when
// name is ""). Each model is read, self-tested and warmed up before it
// replaces the one being served; a model that fails (a bundle that changed
// while it was read, say) keeps its old versions and records why, which
// Reload returns. A model its source no longer offers (its folder was
// removed from the models dir) is unloaded, and so is a version that is no
// longer offered: requests already holding it finish on it, new ones get a
// *NotFoundError, and Status reports it with state END for
// Options.EndRetention. A scan that finds nothing to serve at all changes
// nothing (an unmounted volume does not unload every model).
func (r *Registry) Reload(ctx context.Context, name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.state.Load()
	if name != "" {
		if _, ok := old.sets[name]; !ok {
			return &NotFoundError{Model: name, Served: strings.Join(old.names, ", ")}
		}
	}
	found, err := r.scan()
	if err != nil {
		return err
	}
	now := time.Now()
	sets := make(map[string]*modelSet, len(old.sets))
	for k, v := range old.sets {
		sets[k] = v
	}
	ended := make(map[string][]endedVersion, len(old.ended))
	for k, v := range old.ended {
		ended[k] = v
	}
	offered := map[string]bool{}
	for _, n := range namesOf(found) {
		offered[n] = true
	}
	for _, n := range old.names {
		if (name == "" || name == n) && !offered[n] {
			set := sets[n]
			delete(sets, n)
			for _, v := range sortedVersions(set.versions) {
				ended[n] = append(ended[n], endedVersion{version: v, origin: set.versions[v].origin, at: now})
			}
			r.opts.Logger.Info("model unloaded: its source no longer offers it; requests in flight finish on it",
				"model", n, "versions", versionList(set.versions))
		}
	}
	names := namesOf(found)
	if name != "" {
		names = nil
		if offered[name] {
			names = []string{name}
		}
	}
	var errs []error
	for _, n := range names {
		set, err := r.loadSet(ctx, n, found)
		if err != nil {
			errs = append(errs, err)
			if prev, ok := sets[n]; ok {
				cp := *prev
				cp.lastErr = err.Error()
				sets[n] = &cp
			}
			msg := "model reload failed; keeping the old one"
			if errChanged(err) {
				msg = "model reload refused: its files changed while they were read; keeping the old one"
			}
			r.opts.Logger.Error(msg, "model", n, "err", err)
			continue
		}
		if prev := old.sets[n]; prev != nil {
			for _, v := range sortedVersions(prev.versions) {
				if _, ok := set.versions[v]; !ok {
					ended[n] = append(ended[n], endedVersion{version: v, origin: prev.versions[v].origin, at: now})
					r.opts.Logger.Info("model version unloaded: its folder is no longer offered; requests in flight finish on it",
						"model", n, "version", v, "origin", prev.versions[v].origin)
				}
			}
		}
		var keep []endedVersion
		for _, e := range ended[n] {
			if _, back := set.versions[e.version]; !back {
				keep = append(keep, e)
			}
		}
		ended[n] = keep
		sets[n] = set
		r.opts.Logger.Info("model reloaded", "model", n, "version", set.latest.version, "default_version", set.def.version,
			"fingerprint", set.latest.fingerprint[:12])
	}
	for n, es := range ended {
		for len(es) > 0 && (len(es) > maxEnded || now.Sub(es[0].at) > r.opts.EndRetention) {
			es = es[1:]
		}
		if len(es) == 0 {
			delete(ended, n)
		} else {
			ended[n] = es
		}
	}
	snap, err := r.newSnapshot(sets, ended)
	if err != nil {
		return err
	}
	r.state.Store(snap)
	r.opts.Logger.Info("reload finished", "serving", strings.Join(snap.names, ","), "failed", len(errs),
		"reload_ms", float64(time.Since(now).Microseconds())/1000)
	return errors.Join(errs...)
}

func (r *Registry) scan() ([]Found, error) {
	var all []Found
	seen := map[string]string{}
	for _, s := range r.sources {
		fs, err := s.Scan(r.opts.Logger)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			if err := CheckModelName(f.Name); err != nil {
				return nil, fmt.Errorf("serving: %s: %w", s, err)
			}
			if prev, ok := seen[f.Name]; ok && prev != s.String() {
				return nil, fmt.Errorf("serving: model name %q offered by both %s and %s", f.Name, prev, s)
			}
			seen[f.Name] = s.String()
			all = append(all, f)
		}
	}
	if len(all) == 0 {
		return nil, errors.New("serving: no models to serve")
	}
	sortFound(all)
	return all, nil
}

func namesOf(found []Found) []string {
	var names []string
	for i, f := range found {
		if i == 0 || found[i-1].Name != f.Name {
			names = append(names, f.Name)
		}
	}
	return names
}

// loadSet loads every version of one model; any failure fails the set.
func (r *Registry) loadSet(ctx context.Context, name string, found []Found) (*modelSet, error) {
	set := &modelSet{name: name, versions: map[int64]*Model{}}
	flags, hasFlags := r.opts.Models[name]
	var mo ModelOptions
	for _, f := range found {
		if f.Name == name {
			var err error
			if mo, err = mergeOptions(name, flags, hasFlags, f.Options, f.OptionsFile); err != nil {
				return nil, err
			}
			break
		}
	}
	for _, f := range found {
		if f.Name != name {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t0 := time.Now()
		b, err := f.Read(r.opts.Layers)
		if err != nil {
			return nil, fmt.Errorf("serving: model %q version %d (%s): %w", f.Name, f.Version, f.Origin, err)
		}
		m, err := newModel(ctx, b, f.Name, f.Version, r.opts.Observer, r.opts.Layers)
		if err != nil {
			return nil, fmt.Errorf("serving: model %q version %d (%s): %w", f.Name, f.Version, f.Origin, err)
		}
		if r.opts.Batch.Enabled {
			m.batch = newBatcher(m, r.opts.Batch, r.opts.BatchObserver)
		}
		m.adm = r.opts.Admission
		if _, dup := set.versions[m.version]; dup {
			return nil, fmt.Errorf("serving: model %q: version %d offered twice", f.Name, m.version)
		}
		set.versions[m.version] = m
		if set.latest == nil || m.version > set.latest.version {
			set.latest = m
		}
		attrs := []any{"model", f.Name, "version", m.version, "origin", m.origin, "kind", f.Kind, "fingerprint", m.fingerprint[:12],
			"params", m.ParamCount(), "window", m.window, "load_ms", float64(time.Since(t0).Microseconds()) / 1000}
		if st := kerasconfig.StatefulLayers(m.net); len(st) > 0 {
			attrs = append(attrs, "stateful_layers", strings.Join(st, ","),
				"stateful_state", "zero at every request, as Keras after reset_states(); any batch size")
		}
		r.opts.Logger.Info("model loaded", attrs...)
	}
	if set.latest == nil {
		return nil, fmt.Errorf("serving: model %q: no versions found", name)
	}
	if err := mo.apply(set); err != nil {
		return nil, err
	}
	set.loadedAt = time.Now()
	return set, nil
}

func (r *Registry) newSnapshot(sets map[string]*modelSet, ended map[string][]endedVersion) (*snapshot, error) {
	s := &snapshot{sets: sets, ended: ended}
	for n := range sets {
		s.names = append(s.names, n)
	}
	sort.Strings(s.names)
	switch {
	case r.opts.Default != "":
		if _, ok := sets[r.opts.Default]; !ok {
			return nil, fmt.Errorf("serving: default model %q is not among %v", r.opts.Default, s.names)
		}
		s.def = r.opts.Default
	case sets["gold"] != nil:
		s.def = "gold"
	case len(s.names) > 0:
		s.def = s.names[0]
	}
	return s, nil
}

// Ready reports whether the initial Load succeeded.
func (r *Registry) Ready() bool { return r.loaded.Load() }

// Default is the name of the model served when a request names none.
func (r *Registry) Default() string { return r.state.Load().def }

// Admission is the admission control every model's work goes through (nil:
// none).
func (r *Registry) Admission() *Admission { return r.opts.Admission }

// Names lists the served model names in alphabetical order.
func (r *Registry) Names() []string { return append([]string(nil), r.state.Load().names...) }

// Get returns the named model ("" for the default model) at version (0 for
// the model's default version: the highest unless ModelOptions pin another).
// Unknown names and versions are a *NotFoundError.
func (r *Registry) Get(name string, version int64) (*Model, error) {
	s := r.state.Load()
	set, err := s.set(name)
	if err != nil {
		return nil, err
	}
	if version == 0 {
		return set.def, nil
	}
	m, ok := set.versions[version]
	if !ok {
		return nil, &NotFoundError{Model: set.name, Version: version, Served: versionList(set.versions)}
	}
	return m, nil
}

// GetLabel returns the named model ("" for the default model) at the version
// label points to. Unknown names and labels are a *NotFoundError.
func (r *Registry) GetLabel(name, label string) (*Model, error) {
	s := r.state.Load()
	set, err := s.set(name)
	if err != nil {
		return nil, err
	}
	v, ok := set.labels[label]
	if !ok {
		return nil, &NotFoundError{Model: set.name, Label: label, Served: labelList(set.labels)}
	}
	return set.versions[v], nil
}

func (s *snapshot) set(name string) (*modelSet, error) {
	if name == "" {
		name = s.def
	}
	set, ok := s.sets[name]
	if !ok {
		served := strings.Join(s.names, ", ")
		if served == "" {
			served = "nothing yet"
		}
		return nil, &NotFoundError{Model: name, Served: served}
	}
	return set, nil
}

// Models returns every loaded model, by name then version.
func (r *Registry) Models() []*Model {
	s := r.state.Load()
	var out []*Model
	for _, n := range s.names {
		set := s.sets[n]
		vs := make([]int64, 0, len(set.versions))
		for v := range set.versions {
			vs = append(vs, v)
		}
		sort.Slice(vs, func(i, j int) bool { return vs[i] < vs[j] })
		for _, v := range vs {
			out = append(out, set.versions[v])
		}
	}
	return out
}

// Status describes the named model's versions, highest first: the ones
// served (AVAILABLE) and the ones unloaded within Options.EndRetention (END).
// A model that was removed altogether is still described, with END versions
// only and DefaultVer 0, until its retention passes.
func (r *Registry) Status(name string) (ModelStatus, error) {
	s := r.state.Load()
	set, err := s.set(name)
	if err != nil {
		if es := s.liveEnded(name, r.opts.EndRetention); name != "" && len(es) > 0 {
			st := ModelStatus{Name: name, Labels: map[string]int64{}}
			addEnded(&st, es)
			return st, nil
		}
		return ModelStatus{}, err
	}
	st := set.status()
	addEnded(&st, s.liveEnded(set.name, r.opts.EndRetention))
	return st, nil
}

// Statuses describes every served model, by name (see Status).
func (r *Registry) Statuses() []ModelStatus {
	s := r.state.Load()
	out := make([]ModelStatus, 0, len(s.names))
	for _, n := range s.names {
		st := s.sets[n].status()
		addEnded(&st, s.liveEnded(n, r.opts.EndRetention))
		out = append(out, st)
	}
	return out
}

// liveEnded lists name's unloaded versions still within retention.
func (s *snapshot) liveEnded(name string, retention time.Duration) []endedVersion {
	var out []endedVersion
	for _, e := range s.ended[name] {
		if time.Since(e.at) <= retention {
			out = append(out, e)
		}
	}
	return out
}

// addEnded adds unloaded versions (state END) to st, highest first; a
// version unloaded twice is reported once.
func addEnded(st *ModelStatus, es []endedVersion) {
	seen := map[int64]bool{}
	for _, v := range st.Versions {
		seen[v.Version] = true
	}
	for i := len(es) - 1; i >= 0; i-- {
		if !seen[es[i].version] {
			seen[es[i].version] = true
			st.Versions = append(st.Versions, VersionStatus{Version: es[i].version, State: StateEnd})
		}
	}
	sort.SliceStable(st.Versions, func(i, j int) bool { return st.Versions[i].Version > st.Versions[j].Version })
}

func sortedVersions(vs map[int64]*Model) []int64 {
	out := make([]int64, 0, len(vs))
	for v := range vs {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (set *modelSet) status() ModelStatus {
	st := ModelStatus{Name: set.name, LastLoad: set.loadedAt, LastError: set.lastErr, DefaultVer: set.def.version,
		Labels: make(map[string]int64, len(set.labels))}
	for l, v := range set.labels {
		st.Labels[l] = v
	}
	st.Rollout = set.rollout.status()
	for v, m := range set.versions {
		st.Versions = append(st.Versions, VersionStatus{Version: v, State: StateAvailable})
		st.Origins = append(st.Origins, m.origin)
	}
	sort.Slice(st.Versions, func(i, j int) bool { return st.Versions[i].Version > st.Versions[j].Version })
	sort.Strings(st.Origins)
	return st
}
