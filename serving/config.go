package serving

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/seqcast/seqcast/bundle"
)

// ModelConfigFiles are the names a model folder's configuration file may
// have in a models dir (at most one of them).
var ModelConfigFiles = []string{"model.yaml", "model.yml", "model.json"}

// MaxModelConfigSize bounds a model configuration file.
const MaxModelConfigSize = 64 << 10

// ModelConfig is a model folder's configuration file in a models dir
// (NAME/model.yaml, NAME/model.yml or NAME/model.json; JSON is read as the
// YAML it also is). It holds what flags set for one model:
//
//	version_labels:      # label -> version, as --version-labels
//	  stable: 1
//	  canary: 2
//	default_version: stable   # a version number or a label, as --default-version
//	shadow: 2            # as --shadow: a sample of the default's requests also run on 2
//	shadow_rate: 0.1     # as --shadow-rate (default 0.1)
//	canary:              # as --canary NAME:2=10
//	  version: 2
//	  percent: 10
//	keras:               # how to read versions that hold a .h5/.keras file
//	  scaler_x: scaler_X.pkl  # paths relative to the version folder
//	  scaler_y: scaler_y.pkl
//	  window_zscore: false    # exclusive with scaler_x/scaler_y
//	  epsilon: 1.0e-8         # window z-score only
//	  target_feature: 0       # window z-score only
//	  window: 24              # 0 or absent: the model's input length
//
// Every key is optional; an unknown key is an error naming it. A version
// holding a bundle ignores keras: (the bundle carries its own scaler.json).
// The file is read again on every reload.
type ModelConfig struct {
	VersionLabels  map[string]int64 `yaml:"version_labels"`
	DefaultVersion string           `yaml:"default_version"` // a version number or a label
	Shadow         int64            `yaml:"shadow"`
	ShadowRate     *float64         `yaml:"shadow_rate"`
	Canary         *CanaryConfig    `yaml:"canary"`
	Keras          *KerasConfig     `yaml:"keras"`

	file string
}

// CanaryConfig is the canary: section of a ModelConfig.
type CanaryConfig struct {
	Version int64   `yaml:"version"`
	Percent float64 `yaml:"percent"`
}

// KerasConfig is the keras: section of a ModelConfig: the preprocessing
// options of `seqcast import` and `seqcast serve --model FILE.keras`.
type KerasConfig struct {
	ScalerX       string   `yaml:"scaler_x"`
	ScalerY       string   `yaml:"scaler_y"`
	WindowZScore  bool     `yaml:"window_zscore"`
	Epsilon       *float64 `yaml:"epsilon"`
	TargetFeature *int     `yaml:"target_feature"`
	Window        int      `yaml:"window"`
}

// ConfigError is a model configuration file that cannot be used.
type ConfigError struct {
	File string
	Err  error
}

func (e *ConfigError) Error() string { return e.File + ": " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// readModelConfig reads the model folder dir's configuration file: nil when
// it has none.
func readModelConfig(dir string) (*ModelConfig, error) {
	var found []string
	for _, n := range ModelConfigFiles {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			found = append(found, n)
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, &ConfigError{File: filepath.Join(dir, found[0]),
			Err: fmt.Errorf("the model folder has %d configuration files (%s): keep one", len(found), strings.Join(found, ", "))}
	}
	p := filepath.Join(dir, found[0])
	f, err := os.Open(p)
	if err != nil {
		return nil, &ConfigError{File: p, Err: err}
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxModelConfigSize+1)); err != nil {
		return nil, &ConfigError{File: p, Err: err}
	}
	if buf.Len() > MaxModelConfigSize {
		return nil, &ConfigError{File: p, Err: fmt.Errorf("larger than the %d bytes allowed", MaxModelConfigSize)}
	}
	c, err := ParseModelConfig(buf.Bytes())
	if err != nil {
		return nil, &ConfigError{File: p, Err: err}
	}
	c.file = p
	return c, nil
}

// ParseModelConfig parses a model configuration file (YAML or JSON) and
// checks its keras: section. Unknown keys are errors naming the key.
func ParseModelConfig(data []byte) (*ModelConfig, error) {
	c := &ModelConfig{}
	if len(bytes.TrimSpace(data)) == 0 {
		return c, nil
	}
	if err := yaml.UnmarshalWithOptions(data, c, yaml.DisallowUnknownField()); err != nil {
		return nil, errors.New(strings.TrimSpace(yaml.FormatError(err, false, false)))
	}
	if k := c.Keras; k != nil {
		switch {
		case k.WindowZScore && (k.ScalerX != "" || k.ScalerY != ""):
			return nil, errors.New("keras: window_zscore and scaler_x/scaler_y are exclusive")
		case !k.WindowZScore && (k.Epsilon != nil || k.TargetFeature != nil):
			return nil, errors.New("keras: epsilon and target_feature need window_zscore: true")
		case k.Window < 0:
			return nil, fmt.Errorf("keras: window %d: want a positive integer (or 0: the model's input length)", k.Window)
		case k.TargetFeature != nil && *k.TargetFeature < 0:
			return nil, fmt.Errorf("keras: target_feature %d: want a feature index", *k.TargetFeature)
		case k.Epsilon != nil && !(*k.Epsilon >= 0 && !math.IsInf(*k.Epsilon, 0)):
			return nil, fmt.Errorf("keras: epsilon %v: want a finite number >= 0", *k.Epsilon)
		}
	}
	return c, nil
}

// modelOptions turns the labels and default version into ModelOptions,
// checked as flags are.
func (c *ModelConfig) modelOptions(name string) (ModelOptions, error) {
	o := ModelOptions{Labels: c.VersionLabels, Shadow: c.Shadow}
	if c.ShadowRate != nil {
		o.ShadowRate = *c.ShadowRate
	} else if c.Shadow != 0 {
		o.ShadowRate = DefaultShadowRate
	}
	if c.Canary != nil {
		if c.Canary.Version <= 0 {
			return o, fmt.Errorf("canary: version %d: want a positive integer", c.Canary.Version)
		}
		o.Canary, o.CanaryPercent = c.Canary.Version, c.Canary.Percent
	}
	// A string, not an interface: every field has a scalar or flat type,
	// so no YAML alias can make the decoder build a nested structure.
	if v := c.DefaultVersion; v != "" {
		if v[0] >= '0' && v[0] <= '9' || v[0] == '-' || v[0] == '+' {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return o, fmt.Errorf("default_version %q: want a positive integer or a label", v)
			}
			o.DefaultVersion = n
		} else {
			o.DefaultLabel = v
		}
	}
	if err := o.Validate(name); err != nil {
		return o, err
	}
	return o, nil
}

// options turns the keras: section into bundle.KerasOptions, pickle paths
// resolved against the version folder dir. A nil section means none.
func (k *KerasConfig) options(dir string) bundle.KerasOptions {
	if k == nil {
		return bundle.KerasOptions{}
	}
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	o := bundle.KerasOptions{ScalerX: rel(k.ScalerX), ScalerY: rel(k.ScalerY), WindowZScore: k.WindowZScore, Window: k.Window}
	if k.WindowZScore {
		o.Epsilon = k.Epsilon
		if k.TargetFeature != nil {
			o.TargetFeature = *k.TargetFeature
		}
	}
	return o
}

// mergeOptions combines a model's options from flags and from its
// configuration file. Each setting (the labels, the default version) may
// come from one of them only: both is a conflict, refused.
func mergeOptions(name string, flags ModelOptions, hasFlags bool, file *ModelOptions, fileName string) (ModelOptions, error) {
	if file == nil {
		return flags, nil
	}
	if !hasFlags {
		return *file, nil
	}
	var clash []string
	if len(flags.Labels) > 0 && len(file.Labels) > 0 {
		clash = append(clash, "version labels")
	}
	if (flags.DefaultVersion != 0 || flags.DefaultLabel != "") && (file.DefaultVersion != 0 || file.DefaultLabel != "") {
		clash = append(clash, "the default version")
	}
	if flags.Shadow != 0 && file.Shadow != 0 {
		clash = append(clash, "the shadow version")
	}
	if flags.Canary != 0 && file.Canary != 0 {
		clash = append(clash, "the canary version")
	}
	if len(clash) > 0 {
		sort.Strings(clash)
		return ModelOptions{}, fmt.Errorf("serving: model %q: %s set both by flags (--version-labels, --default-version, --shadow, --canary) and by %s: set each in one place",
			name, strings.Join(clash, " and "), fileName)
	}
	out := *file
	if len(flags.Labels) > 0 {
		out.Labels = flags.Labels
	}
	if flags.DefaultVersion != 0 || flags.DefaultLabel != "" {
		out.DefaultVersion, out.DefaultLabel = flags.DefaultVersion, flags.DefaultLabel
	}
	if flags.Shadow != 0 {
		out.Shadow, out.ShadowRate = flags.Shadow, flags.ShadowRate
	}
	if flags.Canary != 0 {
		out.Canary, out.CanaryPercent = flags.Canary, flags.CanaryPercent
	}
	if err := out.Validate(name); err != nil {
		return ModelOptions{}, err
	}
	return out, nil
}
