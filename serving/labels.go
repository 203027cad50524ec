package serving

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ModelOptions are one model name's serving settings: its version labels and
// the version a request naming none gets. cmd/seqcast fills them from
// --version-labels and --default-version; any other configuration source (a
// per-model config file) can fill the same struct.
type ModelOptions struct {
	// Labels maps version labels ("stable", "canary") to version numbers,
	// as TF Serving's version_labels do. Every label must point to a loaded
	// version: Load fails otherwise, and a reload that would leave a label
	// dangling keeps the model's previous versions.
	Labels map[string]int64
	// DefaultVersion pins the version served to requests that name none
	// (0: the highest loaded version).
	DefaultVersion int64
	// DefaultLabel pins it through one of Labels instead; at most one of
	// DefaultVersion and DefaultLabel may be set.
	DefaultLabel string
	// Shadow is a version that a sample (ShadowRate) of the requests
	// served by the default version also runs on, off the response path
	// (shadow.go); 0: none.
	Shadow int64
	// ShadowRate is the share of those requests, 0 to 1 (0: none; the
	// flag's and the file's default is DefaultShadowRate).
	ShadowRate float64
	// Canary is a version that CanaryPercent percent of the requests naming
	// no version get instead of the default one, chosen by a hash of their
	// input; 0: none.
	Canary int64
	// CanaryPercent is that share, 0 to 100.
	CanaryPercent float64
}

// MaxLabelLen bounds a version label's length.
const MaxLabelLen = 64

// CheckLabel reports whether s may be used as a version label: 1 to 64
// characters, a letter first, then letters, digits, '_', '-' or '.'. A label
// therefore never reads as a version number.
func CheckLabel(s string) error {
	if s == "" || len(s) > MaxLabelLen {
		return fmt.Errorf("version label %q: want 1 to %d characters", s, MaxLabelLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.')) {
			return fmt.Errorf("version label %q: want a letter first, then letters, digits, '_', '-' or '.'", s)
		}
	}
	return nil
}

// Validate checks what can be checked before any model is loaded: label
// syntax, positive versions, and a default given at most one way that names a
// label the model has.
func (o ModelOptions) Validate(name string) error {
	for l, v := range o.Labels {
		if err := CheckLabel(l); err != nil {
			return fmt.Errorf("serving: model %q: %w", name, err)
		}
		if v <= 0 {
			return fmt.Errorf("serving: model %q: label %q: version %d: want a positive integer", name, l, v)
		}
	}
	switch {
	case o.DefaultVersion < 0:
		return fmt.Errorf("serving: model %q: default version %d: want a positive integer", name, o.DefaultVersion)
	case o.DefaultVersion > 0 && o.DefaultLabel != "":
		return fmt.Errorf("serving: model %q: default version given twice (version %d and label %q)", name, o.DefaultVersion, o.DefaultLabel)
	case o.DefaultLabel != "":
		if _, ok := o.Labels[o.DefaultLabel]; !ok {
			return fmt.Errorf("serving: model %q: default version label %q is not one of its labels (%s)", name, o.DefaultLabel, labelList(o.Labels))
		}
	}
	return o.validateRollout(name)
}

// Validate checks every model's options (see ModelOptions.Validate).
func (o Options) Validate() error {
	for _, n := range sortedKeys(o.Models) {
		if n == "" {
			return fmt.Errorf("serving: model options for an empty model name")
		}
		if err := o.Models[n].Validate(n); err != nil {
			return err
		}
	}
	return nil
}

// apply checks o against the loaded versions of set and sets its labels and
// default version.
func (o ModelOptions) apply(set *modelSet) error {
	if err := o.Validate(set.name); err != nil {
		return err
	}
	set.labels = map[string]int64{}
	for _, l := range sortedKeys(o.Labels) {
		v := o.Labels[l]
		if _, ok := set.versions[v]; !ok {
			return fmt.Errorf("serving: model %q: label %q points to version %d, which is not loaded (loaded: %s)",
				set.name, l, v, versionList(set.versions))
		}
		set.labels[l] = v
	}
	set.def = set.latest
	want := o.DefaultVersion
	if o.DefaultLabel != "" {
		want = o.Labels[o.DefaultLabel]
	}
	if want != 0 {
		m, ok := set.versions[want]
		if !ok {
			return fmt.Errorf("serving: model %q: default version %d is not loaded (loaded: %s)", set.name, want, versionList(set.versions))
		}
		set.def = m
	}
	return o.applyRollout(set)
}

// NotFoundError is a lookup of a model, version or label that is not
// served. errors.Is(err, ErrNotFound) holds for it.
type NotFoundError struct {
	Model   string
	Version int64  // the version asked for; 0 when the version was not the problem
	Label   string // the label asked for; "" when the label was not the problem
	Served  string // what is served instead (names, versions or labels), for the message
}

func (e *NotFoundError) Error() string {
	switch {
	case e.Label != "":
		return fmt.Sprintf("not found: model %q has no version label %q (labels: %s)", e.Model, e.Label, e.Served)
	case e.Version != 0:
		return fmt.Sprintf("not found: model %q has no version %d (versions: %s)", e.Model, e.Version, e.Served)
	}
	return fmt.Sprintf("not found: model %q (serving %s)", e.Model, e.Served)
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

func versionList(vs map[int64]*Model) string {
	keys := make([]int64, 0, len(vs))
	for v := range vs {
		keys = append(keys, v)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	parts := make([]string, len(keys))
	for i, v := range keys {
		parts[i] = strconv.FormatInt(v, 10)
	}
	return strings.Join(parts, ", ")
}

func labelList(ls map[string]int64) string {
	if len(ls) == 0 {
		return "none"
	}
	keys := sortedKeys(ls)
	for i, k := range keys {
		keys[i] = k + "=" + strconv.FormatInt(ls[k], 10)
	}
	return strings.Join(keys, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
