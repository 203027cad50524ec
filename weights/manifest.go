package weights

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/seqcast/seqcast/nn"
)

// ErrChecksum is wrapped by errors about a file whose sha256 does not match
// the manifest.
var ErrChecksum = errors.New("checksum mismatch")

// ErrSelfTest is wrapped by errors about a self-test whose outputs differ
// from the recorded ones by more than the tolerance.
var ErrSelfTest = errors.New("self-test failed")

// ErrSelfTestMultiIO is wrapped by the error about a self_test for a model
// with several inputs or outputs, which the manifest's one input and one
// output .npy cannot describe: remove the self_test from such a bundle.
var ErrSelfTestMultiIO = errors.New("self_test of a multi-input or multi-output model is not supported")

// maxSelfTestElems bounds each self-test array (64 MiB of float32).
const maxSelfTestElems = 1 << 24

// maxSelfTestActivations bounds the layer outputs (256 MiB of float32) the
// self-test's one forward pass over all its samples may allocate.
const maxSelfTestActivations = 1 << 26

// DefaultTolerance is the self-test's max |difference| when the manifest
// gives none.
const DefaultTolerance = 1e-4

// Manifest is a bundle's optional manifest.json. Unknown keys are ignored so
// that exporters may record more (source, date, metrics).
type Manifest struct {
	Name         string            `json:"name"`
	Version      string            `json:"version"`
	KerasVersion string            `json:"keras_version,omitempty"`
	Files        map[string]string `json:"files,omitempty"` // bundle-relative path -> sha256 hex
	SelfTest     *SelfTest         `json:"self_test,omitempty"`
}

// SelfTest names a recorded input and the output Keras produced for it.
type SelfTest struct {
	Input     string   `json:"input"`               // .npy of shape (N, ...model input)
	Output    string   `json:"output"`              // .npy of shape (N, ...model output)
	Tolerance *float64 `json:"tolerance,omitempty"` // max |difference|; DefaultTolerance when absent
}

// ParseManifest decodes and checks a manifest.json.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	for _, p := range slices.Sorted(maps.Keys(m.Files)) {
		if !fs.ValidPath(p) || p == "." {
			return nil, fmt.Errorf("manifest.json: files: %q is not a clean relative path inside the bundle", p)
		}
		sum := strings.ToLower(m.Files[p])
		if b, err := hex.DecodeString(sum); err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("manifest.json: files: %q: %q is not a sha256 hex digest", p, m.Files[p])
		}
	}
	if st := m.SelfTest; st != nil {
		if !fs.ValidPath(st.Input) || !fs.ValidPath(st.Output) || st.Input == "" || st.Output == "" {
			return nil, fmt.Errorf("manifest.json: self_test: input %q and output %q must be clean relative paths", st.Input, st.Output)
		}
		if t := st.Tolerance; t != nil && (*t < 0 || math.IsNaN(*t) || math.IsInf(*t, 0)) {
			return nil, fmt.Errorf("manifest.json: self_test: tolerance %v must be a finite number >= 0", *t)
		}
	}
	return &m, nil
}

// Tol is the self-test tolerance in effect.
func (s *SelfTest) Tol() float64 {
	if s.Tolerance == nil {
		return DefaultTolerance
	}
	return *s.Tolerance
}

// VerifyFiles checks the sha256 of every file the manifest lists.
func (m *Manifest) VerifyFiles(fsys fs.FS) error {
	for _, p := range slices.Sorted(maps.Keys(m.Files)) {
		f, err := fsys.Open(p)
		if err != nil {
			return fmt.Errorf("manifest.json lists %s: %w", p, err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		got := hex.EncodeToString(h.Sum(nil))
		if want := strings.ToLower(m.Files[p]); got != want {
			return fmt.Errorf("%s: %w: manifest.json says sha256 %s, the file has %s", p, ErrChecksum, want, got)
		}
	}
	return nil
}

// Run feeds the recorded input through the model and compares with
// the recorded output. It returns the max |difference| seen, and an error
// wrapping ErrSelfTest when that exceeds the tolerance.
func (s *SelfTest) Run(fsys fs.FS, m *nn.Model) (float64, error) {
	if m.MultiIO() {
		return 0, fmt.Errorf("self_test: the model has %d inputs and %d outputs, and a self_test (one input .npy, one output .npy) supports a single-input, single-output model only: %w",
			len(m.InputShapes()), len(m.OutputShapes()), ErrSelfTestMultiIO)
	}
	in, inShape, err := readNPYFile(fsys, s.Input, maxSelfTestElems)
	if err != nil {
		return 0, fmt.Errorf("self_test: %w", err)
	}
	want, outShape, err := readNPYFile(fsys, s.Output, maxSelfTestElems)
	if err != nil {
		return 0, fmt.Errorf("self_test: %w", err)
	}
	n, err := batchOf(inShape, m.InputShape())
	if err != nil {
		return 0, fmt.Errorf("self_test: input %s: %w", s.Input, err)
	}
	if per := activationsPerSample(m); n > maxSelfTestActivations/max(per, 1) {
		return 0, fmt.Errorf("self_test: input %s: %d samples of %d layer-output values each exceed the %d the self-test may use; record fewer samples",
			s.Input, n, per, maxSelfTestActivations)
	}
	if n2, err := batchOf(outShape, m.OutputShape()); err != nil || n2 != n {
		return 0, fmt.Errorf("self_test: output %s: shape %s does not match %d samples of the model's output %v",
			s.Output, FormatShape(outShape), n, m.OutputShape())
	}
	if i := CheckFinite(in); i >= 0 {
		return 0, fmt.Errorf("self_test: input %s: value %d is %v", s.Input, i, in[i])
	}
	got, err := m.Predict(in, n)
	if err != nil {
		return 0, fmt.Errorf("self_test: %w", err)
	}
	maxErr, worst := 0.0, 0
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if d != d { // NaN on either side
			d = math.Inf(1)
		}
		if d > maxErr {
			maxErr, worst = d, i
		}
	}
	if maxErr > s.Tol() {
		return maxErr, fmt.Errorf("%w: max |model - %s| = %.3g at element %d (model %v, recorded %v) exceeds the tolerance %.3g",
			ErrSelfTest, s.Output, maxErr, worst, got[worst], want[worst], s.Tol())
	}
	return maxErr, nil
}

// batchOf checks that shape is (N, ...per) and returns N.
func batchOf(shape []int, per nn.Shape) (int, error) {
	if len(shape) != len(per)+1 || shape[0] < 1 || !nn.Shape(shape[1:]).Equal(per) {
		return 0, fmt.Errorf("shape %s, want (N, %s)", FormatShape(shape), strings.Trim(FormatShape(per), "(),"))
	}
	return shape[0], nil
}

// readNPYFile reads a whole .npy file of the bundle.
func readNPYFile(fsys fs.FS, name string, maxElems int) ([]float32, []int, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data, shape, err := ReadNPYLimit(f, maxElems)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return data, shape, nil
}

// activationsPerSample is the number of values one sample's layer outputs
// add up to (kerasconfig.Parse bounded it by kerasconfig.MaxActivations).
func activationsPerSample(m *nn.Model) int {
	total := m.InputShape().Size()
	for i := range m.Nodes() {
		total += m.NodeShape(i).Size()
	}
	return total
}
