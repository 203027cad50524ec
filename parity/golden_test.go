package parity

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/seqcast/seqcast/weights"
)

// goldenDir holds one bundle per case, written by tools/golden/generate.js.
const goldenDir = "testdata/golden"

// wantCases lists every golden case. The test fails if testdata/golden holds
// a different set, or if any case ends without being compared, so that no
// case can be skipped silently. Keep it sorted; regenerate with `make golden`.
var wantCases = []string{
	"activations_all_k2",
	"activations_all_k2_12",
	"activations_all_k3",
	"advanced_activations_k2",
	"advanced_activations_k3",
	"batchnorm_k2_15",
	"batchnorm_layernorm_k2",
	"batchnorm_layernorm_k3",
	"bigru_concat_sum_k3",
	"bigru_mul_ave_seq_k2_12",
	"bigru_reset_before_ave_mul",
	"bilstm_ave_sum_seq_k3",
	"bilstm_concat_k3",
	"bilstm_mul_k2_12",
	"bilstm_sum_ave_k2",
	"bisimplernn_ave_mul_k3",
	"bisimplernn_concat_sum_k2_15",
	"conv1d_activations_k2",
	"conv1d_activations_k3",
	"conv1d_causal_dilation2",
	"conv1d_causal_k2",
	"conv1d_nobias_dilation_valid",
	"conv1d_same_strides2",
	"conv1d_transpose_k2_12",
	"conv1d_transpose_k2_15",
	"conv1d_transpose_k3",
	"conv1d_valid_relu",
	"convlstm2d_dilated_strided_k2_15",
	"convlstm2d_same_seq_nobias_k3",
	"convlstm2d_tutorial_k2_12",
	"convlstm2d_tutorial_k3",
	"dense_2d_3d",
	"embedding_mask_zero_k2_12",
	"embedding_mask_zero_k3",
	"embedding_sequence_k2_15",
	"embedding_sequence_k3",
	"embedding_store_k2_12",
	"embedding_store_k3",
	"functional_cnn_bilstm_k2_12",
	"functional_merges_k2",
	"functional_merges_k3",
	"functional_nested_io_k3",
	"gold_forecaster",
	"gold_forecaster_k3",
	"gru_hard_sigmoid_k3_relu",
	"gru_reset_after_backwards_nobias",
	"gru_reset_after_k3",
	"gru_reset_before_k2",
	"inference_identities_k2",
	"inference_identities_k3",
	"lstm_go_backwards_seq",
	"lstm_hard_sigmoid_k2",
	"lstm_hard_sigmoid_k3",
	"lstm_nobias_relu",
	"lstm_stacked_k2",
	"lstm_stateful_batch1_k2_12",
	"luong_attention_k2_12",
	"luong_attention_k3",
	"masking_bigru_seq_out_k2_12",
	"masking_bilstm_seq_k3",
	"masking_dense_passthrough_k2_15",
	"masking_dropped_at_conv1d_k2_12",
	"masking_functional_merge_k3",
	"masking_gru_simplernn_k3",
	"masking_lstm_k2_12",
	"masking_zero_output_k3",
	"max_min_cosine_dot_k2_15",
	"multi_io_shared_input_k2_12",
	"multi_io_shared_input_k3",
	"multi_io_two_lstm_k2_0",
	"multi_io_two_lstm_k2_15",
	"multi_io_two_lstm_k3",
	"normalization_adapted_k3",
	"normalization_config_invert_k2_15",
	"padding_crop_upsample_k2_12",
	"padding_crop_upsample_k3",
	"permute_attention_k2_15",
	"permute_attention_k3",
	"permute_dense_k2_12",
	"pooling_avg_same_strides",
	"pooling_k2_valid_same",
	"pooling_max_same_strides",
	"relu_variants_k2_12",
	"reshape_flatten_k2",
	"simplernn_backwards_relu_nobias_k3",
	"simplernn_stacked_k2_12",
	"simplernn_stateful_k3",
	"softmax_axes_dot_int_k3",
	"timedistributed_cnn_lstm_k2_12",
	"timedistributed_cnn_lstm_k3",
	"timedistributed_cnn_lstm_univariate_k2_15",
	"timedistributed_repeatvector",
}

// Tolerance of the comparison: |out - golden| <= absTol + relTol*|golden|.
const (
	absTol = 1e-5
	relTol = 1e-5
)

// minCases is the least number of cases the golden set must have.
const minCases = 30

func TestGoldenCaseList(t *testing.T) {
	if len(wantCases) < minCases {
		t.Fatalf("wantCases has %d cases, want at least %d", len(wantCases), minCases)
	}
	if !slices.IsSorted(wantCases) {
		t.Errorf("wantCases is not sorted")
	}
	got := goldenDirs(t)
	if !slices.Equal(got, wantCases) {
		t.Errorf("testdata/golden holds %d cases, wantCases lists %d\nonly on disk: %v\nonly in wantCases: %v",
			len(got), len(wantCases), minus(got, wantCases), minus(wantCases, got))
	}
}

func TestGolden(t *testing.T) {
	var (
		mu       sync.Mutex
		compared []string
	)
	for _, name := range goldenDirs(t) {
		t.Run(name, func(t *testing.T) {
			res, err := runCase(filepath.Join(goldenDir, name))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%-34s %-7s out %v  max|err| %.3g  worst err/tol %.3g  max|golden| %.3g",
				name, res.kerasVersion, res.outShape, res.maxErr, res.worstRatio, res.maxRef)
			if res.worstRatio > 1 {
				t.Errorf("%d of %d outputs off by more than %g + %g*|golden|; worst at flat index %d: got %g, golden %g",
					res.bad, res.n, absTol, relTol, res.worstAt, res.worstGot, res.worstWant)
			}
			mu.Lock()
			compared = append(compared, name)
			mu.Unlock()
		})
	}
	slices.Sort(compared)
	if !slices.Equal(compared, wantCases) {
		t.Errorf("compared %d cases, want %d: not compared %v, unexpected %v",
			len(compared), len(wantCases), minus(wantCases, compared), minus(compared, wantCases))
	}
}

// result is one case's comparison.
type result struct {
	kerasVersion        string
	outShape            []int
	n, bad, worstAt     int
	maxErr, maxRef      float64
	worstRatio          float64
	worstGot, worstWant float32
}

// runCase loads a bundle, runs its input.npy and compares with expected.npy;
// a multi-input or multi-output bundle holds input_<j>.npy and
// expected_<j>.npy instead, one per model input and output, in order.
func runCase(dir string) (*result, error) {
	b, err := weights.Load(dir)
	if err != nil {
		return nil, err
	}
	m := b.Model
	xs, xShapes, err := readNPYs(dir, "input", len(m.InputShapes()))
	if err != nil {
		return nil, err
	}
	wants, wShapes, err := readNPYs(dir, "expected", len(m.OutputShapes()))
	if err != nil {
		return nil, err
	}
	n := -1
	check := func(file string, shape []int, per []int) error {
		if len(shape) < 1 || !slices.Equal(shape[1:], per) || (n >= 0 && shape[0] != n) {
			return fmt.Errorf("%s: %s shape %v, want (N, %v) with one N for every file", dir, file, shape, per)
		}
		n = shape[0]
		return nil
	}
	for j, in := range m.InputShapes() {
		if err := check(fmt.Sprintf("input %d", j), xShapes[j], in); err != nil {
			return nil, err
		}
	}
	gots := make([][]float32, len(wants))
	for j, out := range m.OutputShapes() {
		if err := check(fmt.Sprintf("expected %d", j), wShapes[j], out); err != nil {
			return nil, err
		}
		gots[j] = make([]float32, len(wants[j]))
	}
	if m.MultiIO() {
		err = m.ForwardMulti(gots, xs, n)
	} else {
		err = m.Forward(gots[0], xs[0], n)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: predict: %w", dir, err)
	}
	got, want := slices.Concat(gots...), slices.Concat(wants...)
	outShape := wShapes[0]
	if len(wShapes) > 1 {
		outShape = nil // several outputs: their flat indices follow one another, in order
		for _, s := range wShapes {
			outShape = append(outShape, s[1:]...)
		}
	}
	r := &result{kerasVersion: b.KerasVersion, outShape: outShape, n: len(want)}
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		d := math.Abs(g - w)
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		ratio := d / (absTol + relTol*math.Abs(w))
		r.maxErr = max(r.maxErr, d)
		r.maxRef = max(r.maxRef, math.Abs(w))
		if ratio > 1 {
			r.bad++
		}
		if ratio > r.worstRatio || i == 0 {
			r.worstRatio, r.worstAt, r.worstGot, r.worstWant = ratio, i, got[i], want[i]
		}
	}
	return r, nil
}

// readNPYs reads <base>.npy when count is 1 and the bundle has it, else
// <base>_0.npy ... <base>_<count-1>.npy.
func readNPYs(dir, base string, count int) ([][]float32, [][]int, error) {
	names := []string{base + ".npy"}
	if _, err := os.Stat(filepath.Join(dir, names[0])); count != 1 || err != nil {
		names = names[:0]
		for j := range count {
			names = append(names, fmt.Sprintf("%s_%d.npy", base, j))
		}
	}
	var data [][]float32
	var shapes [][]int
	for _, name := range names {
		d, s, err := readNPY(filepath.Join(dir, name))
		if err != nil {
			return nil, nil, err
		}
		data, shapes = append(data, d), append(shapes, s)
	}
	return data, shapes, nil
}

func readNPY(path string) ([]float32, []int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data, shape, err := weights.ReadNPY(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, shape, nil
}

// goldenDirs lists the case directories, sorted.
func goldenDirs(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names
}

// minus returns the elements of a that are not in b.
func minus(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}
