package server

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/seqcast/seqcast/serving"
)

// modelOptions builds the registry's per-model options from --version-labels
// and --default-version, and checks them (label syntax, a default given once
// per model). Whether the versions are loaded is checked when the models are.
func modelOptions(labels, defaults string, ro rolloutFlags) (map[string]serving.ModelOptions, error) {
	out := map[string]serving.ModelOptions{}
	if err := parseVersionLabels(labels, out); err != nil {
		return nil, fmt.Errorf("--version-labels: %w", err)
	}
	if err := parseDefaultVersions(defaults, out); err != nil {
		return nil, fmt.Errorf("--default-version: %w", err)
	}
	if err := ro.parse(out); err != nil {
		return nil, err
	}
	if err := (serving.Options{Models: out}).Validate(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// parseVersionLabels reads comma-separated NAME:LABEL=VERSION entries into
// opts; an entry without NAME: continues the previous entry's model, so
// "gold:stable=1,canary=2,other:stable=3" labels two models.
func parseVersionLabels(s string, opts map[string]serving.ModelOptions) error {
	model := ""
	for _, entry := range splitList(s) {
		name, rest, ok := strings.Cut(entry, ":")
		if ok {
			model = strings.TrimSpace(name)
			if model == "" {
				return fmt.Errorf("%q: empty model name (want NAME:LABEL=VERSION)", entry)
			}
		} else {
			rest = entry
			if model == "" {
				return fmt.Errorf("%q names no model: write NAME:LABEL=VERSION (later entries without NAME: continue the same model)", entry)
			}
		}
		label, ver, ok := strings.Cut(rest, "=")
		label = strings.TrimSpace(label)
		if !ok {
			return fmt.Errorf("%q: want NAME:LABEL=VERSION", entry)
		}
		v, err := positiveVersion(ver)
		if err != nil {
			return fmt.Errorf("%q: %w", entry, err)
		}
		o := opts[model]
		if o.Labels == nil {
			o.Labels = map[string]int64{}
		}
		if prev, dup := o.Labels[label]; dup {
			return fmt.Errorf("%q: model %q already has label %q (version %d)", entry, model, label, prev)
		}
		o.Labels[label] = v
		opts[model] = o
	}
	return nil
}

// parseDefaultVersions reads comma-separated NAME:VERSION or NAME:LABEL
// entries into opts.
func parseDefaultVersions(s string, opts map[string]serving.ModelOptions) error {
	for _, entry := range splitList(s) {
		name, ver, ok := strings.Cut(entry, ":")
		name, ver = strings.TrimSpace(name), strings.TrimSpace(ver)
		if !ok || name == "" || ver == "" {
			return fmt.Errorf("%q: want NAME:VERSION or NAME:LABEL", entry)
		}
		o := opts[name]
		if o.DefaultVersion != 0 || o.DefaultLabel != "" {
			return fmt.Errorf("%q: model %q has a default version already", entry, name)
		}
		if ver[0] >= '0' && ver[0] <= '9' || ver[0] == '-' {
			v, err := positiveVersion(ver)
			if err != nil {
				return fmt.Errorf("%q: %w", entry, err)
			}
			o.DefaultVersion = v
		} else {
			o.DefaultLabel = ver
		}
		opts[name] = o
	}
	return nil
}

// rolloutFlags are --shadow, --shadow-rate and --canary.
type rolloutFlags struct {
	Shadow     string  // comma-separated NAME:VERSION
	ShadowRate float64 // 0 to 1, for every --shadow entry
	Canary     string  // comma-separated NAME:VERSION=PERCENT
}

// parse reads the flags into opts, naming the flag in every error.
func (f rolloutFlags) parse(opts map[string]serving.ModelOptions) error {
	if !(f.ShadowRate >= 0 && f.ShadowRate <= 1) {
		return fmt.Errorf("--shadow-rate %v: want a number from 0 to 1", f.ShadowRate)
	}
	for _, entry := range splitList(f.Shadow) {
		name, ver, ok := strings.Cut(entry, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return fmt.Errorf("--shadow: %q: want NAME:VERSION", entry)
		}
		v, err := positiveVersion(ver)
		if err != nil {
			return fmt.Errorf("--shadow: %q: %w", entry, err)
		}
		o := opts[name]
		if o.Shadow != 0 {
			return fmt.Errorf("--shadow: %q: model %q has a shadow version already (%d)", entry, name, o.Shadow)
		}
		o.Shadow, o.ShadowRate = v, f.ShadowRate
		opts[name] = o
	}
	for _, entry := range splitList(f.Canary) {
		name, rest, ok := strings.Cut(entry, ":")
		name = strings.TrimSpace(name)
		ver, pct, ok2 := strings.Cut(rest, "=")
		if !ok || !ok2 || name == "" {
			return fmt.Errorf("--canary: %q: want NAME:VERSION=PERCENT", entry)
		}
		v, err := positiveVersion(ver)
		if err != nil {
			return fmt.Errorf("--canary: %q: %w", entry, err)
		}
		p, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
		if err != nil || !(p >= 0 && p <= 100) {
			return fmt.Errorf("--canary: %q: percent %q: want a number from 0 to 100", entry, strings.TrimSpace(pct))
		}
		o := opts[name]
		if o.Canary != 0 {
			return fmt.Errorf("--canary: %q: model %q has a canary version already (%d)", entry, name, o.Canary)
		}
		o.Canary, o.CanaryPercent = v, p
		opts[name] = o
	}
	return nil
}

func positiveVersion(s string) (int64, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("version %q: want a positive integer", strings.TrimSpace(s))
	}
	return v, nil
}
