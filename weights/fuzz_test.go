package weights

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/seqcast/seqcast/internal/allocbound"
	"github.com/seqcast/seqcast/kerasconfig"
)

// The fuzz targets below run their seeds (f.Add and testdata/fuzz/<Name>/)
// under `go test`, and mutate them under `make fuzz`. Each asserts that a
// hostile input yields an error, never a panic, and never an allocation out
// of proportion to the input: every size a file announces is checked
// against the bytes that follow, the manifest's caps and the layer shapes
// before anything that big is allocated.

// npyBytes is a valid float32 .npy of the given shape holding data.
func npyBytes(t testing.TB, data []float32, shape ...int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteNPY(&buf, data, shape); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawHeaderNPY is a .npy whose header dict is hdr verbatim, followed by payload.
func rawHeaderNPY(version byte, hdr string, payload []byte) []byte {
	b := append([]byte("\x93NUMPY"), version, 0)
	if version == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(hdr)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(hdr)))
	}
	return append(append(b, hdr...), payload...)
}

func FuzzReadNPY(f *testing.F) {
	f.Add(npyBytes(f, []float32{1, 2, 3, 4, 5, 6}, 2, 3))
	f.Add(npyBytes(f, []float32{7}))
	f.Add(npyBytes(f, nil, 0, 4))
	f.Add(rawNPY("<f8", true, []int{2, 2}, f64bytes(binary.LittleEndian, 1, 2, 3, 4)))
	f.Add(rawNPY(">f4", false, []int{3}, f32bytes(binary.BigEndian, 1, 2, 3)))
	f.Add(rawNPY("<f4", false, []int{1 << 30}, f32bytes(binary.LittleEndian, 1, 2)))
	f.Add(rawNPY("<f8", false, []int{46340, 46340}, nil))
	f.Add(rawHeaderNPY(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", f32bytes(binary.LittleEndian, 1, 2)))
	f.Add(rawHeaderNPY(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 1L), }\n", f32bytes(binary.LittleEndian, 1, 2)))
	f.Add(rawHeaderNPY(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n", nil))
	f.Add(rawHeaderNPY(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }\n", []byte{1, 2, 3}))
	f.Add([]byte("\x93NUMPY\x01\x00\xff\xff"))
	f.Add([]byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f"))
	f.Fuzz(func(t *testing.T, data []byte) {
		allocbound.Check(t, len(data), func() {
			const limit = 1 << 16
			got, shape, err := ReadNPYLimit(bytes.NewReader(data), limit)
			if err == nil {
				n := 1
				for _, d := range shape {
					n *= d
				}
				if n != len(got) || n > limit {
					t.Fatalf("shape %v holds %d values, read %d (limit %d)", shape, n, len(got), limit)
				}
				// What was read must write back and read again the same.
				var buf bytes.Buffer
				if err := WriteNPY(&buf, got, shape); err != nil {
					t.Fatal(err)
				}
				again, shape2, err := ReadNPY(&buf)
				if err != nil || !equalInts(shape, shape2) || len(again) != len(got) {
					t.Fatalf("round trip: %v, shape %v vs %v", err, shape2, shape)
				}
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(again[i]) {
						t.Fatalf("round trip: value %d %v != %v", i, again[i], got[i])
					}
				}
			}
			// Without a limit, the reader still allocates only for data the
			// stream holds: a 100-byte file announcing 2^31 float64s must
			// not cost 16 GiB (boundedAlloc checks).
			if _, _, err2 := ReadNPY(bytes.NewReader(data)); err2 != nil && err == nil {
				t.Fatalf("ReadNPY failed where ReadNPYLimit did not: %v", err2)
			}
		})
	})
}

// fuzzDenseConfig is a small Keras 2 Sequential model: (None, 3) -> Dense(2).
const fuzzDenseConfig = `{"class_name":"Sequential","config":{"name":"s","layers":[` +
	`{"class_name":"InputLayer","config":{"batch_input_shape":[null,3],"dtype":"float32","name":"in"}},` +
	`{"class_name":"Dense","config":{"name":"d","units":2,"activation":"linear","use_bias":true}}]},"keras_version":"2.12.0"}`

// seq wraps layer configs in a Keras 2 Sequential with input (None, 10, 3).
func seq(layers ...string) string {
	return `{"class_name":"Sequential","config":{"name":"s","layers":[{"class_name":"InputLayer","config":{"batch_input_shape":[null,10,3],"dtype":"float32","name":"in"}},` +
		strings.Join(layers, ",") + `]}}`
}

// fuzzBundle is a bundle made of a fuzzed model.json, a fuzzed
// weights/000.npy (also present as st/f.npy for a fuzzed self-test to point
// at) and a fuzzed manifest.json (left out when empty). When the config
// parses, the remaining weights are filled with valid arrays of the right
// shape, so that the fuzzer reaches SetWeights and the self-test.
func fuzzBundle(modelJSON, npy, manifest []byte) fstest.MapFS {
	fsys := fstest.MapFS{
		"model.json":      {Data: modelJSON},
		"weights/000.npy": {Data: npy},
		"st/f.npy":        {Data: npy},
		"st/in.npy":       {Data: mustNPY([]float32{1, 2, 3}, 1, 3)},
		"st/out.npy":      {Data: mustNPY([]float32{0, 0}, 1, 2)},
	}
	if len(manifest) > 0 {
		fsys["manifest.json"] = &fstest.MapFile{Data: manifest}
	}
	m, _, err := kerasconfig.Parse(modelJSON, kerasconfig.Options{})
	if err != nil {
		return fsys
	}
	total := 0
	for i, w := range m.Weights() {
		if i == 0 {
			continue
		}
		n := w.Shape.Size()
		if total += n; n < 0 || total > 1<<17 {
			break
		}
		fsys[fmt.Sprintf("weights/%03d.npy", i)] = &fstest.MapFile{Data: mustNPY(make([]float32, n), w.Shape...)}
	}
	return fsys
}

func mustNPY(data []float32, shape ...int) []byte {
	var buf bytes.Buffer
	if err := WriteNPY(&buf, data, shape); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func FuzzLoadBundle(f *testing.F) {
	kernel := npyBytes(f, []float32{1, 0, 0, 1, 1, 1}, 3, 2)
	f.Add([]byte(fuzzDenseConfig), kernel, []byte(nil))
	f.Add([]byte(fuzzDenseConfig), kernel, []byte(`{"name":"d","version":"1","self_test":{"input":"st/in.npy","output":"st/out.npy","tolerance":100}}`))
	f.Add([]byte(fuzzDenseConfig), kernel, []byte(`{"name":"d","version":"1","self_test":{"input":"st/in.npy","output":"st/f.npy"}}`))
	f.Add([]byte(fuzzDenseConfig), kernel, []byte(`{"name":"d","version":"1","files":{"weights/000.npy":"00000000000000000000000000000000000000000000000000000000000000000"}}`))
	f.Add([]byte(fuzzDenseConfig), kernel, []byte(`{"name":"d","files":{"../../etc/passwd":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}`))
	f.Add([]byte(fuzzDenseConfig), rawNPY("<f4", false, []int{3, 2}, f32bytes(binary.LittleEndian, float32(math.NaN()), 0, 0, 0, 0, 0)), []byte(nil))
	f.Add([]byte(fuzzDenseConfig), rawNPY("<f4", false, []int{3, 2}, nil), []byte(nil))
	f.Add([]byte(seq(`{"class_name":"Dense","config":{"name":"d","units":1000000}}`)), rawNPY("<f4", false, []int{3, 1000000}, nil), []byte(nil))
	f.Add([]byte(seq(`{"class_name":"RepeatVector","config":{"name":"rv","n":100000000}}`)), kernel,
		[]byte(`{"name":"d","version":"1","self_test":{"input":"st/in.npy","output":"st/out.npy"}}`))
	// A 300-byte config whose RepeatVector makes the self-test allocate
	// 1.2 GB (n = 1e8) or overflow a size and panic (n = 2^62): refused by
	// MaxActivations.
	repeat := func(n string) []byte {
		return []byte(`{"class_name":"Sequential","config":{"name":"s","layers":[` +
			`{"class_name":"InputLayer","config":{"batch_input_shape":[null,3],"dtype":"float32","name":"in"}},` +
			`{"class_name":"RepeatVector","config":{"name":"r","n":` + n + `}},` +
			`{"class_name":"GlobalAveragePooling1D","config":{"name":"g"}}]},"keras_version":"2.12.0"}`)
	}
	selfTest := []byte(`{"name":"r","version":"1","self_test":{"input":"st/in.npy","output":"st/f.npy"}}`)
	f.Add(repeat("100000000"), npyBytes(f, []float32{1, 2, 3}, 1, 3), selfTest)
	f.Add(repeat("4611686018427387904"), npyBytes(f, []float32{1, 2, 3}, 1, 3), selfTest)
	f.Add(repeat("2"), npyBytes(f, []float32{1, 2, 3}, 1, 3), selfTest)
	f.Fuzz(func(t *testing.T, modelJSON, npy, manifest []byte) {
		fsys := fuzzBundle(modelJSON, npy, manifest)
		allocbound.Check(t, len(modelJSON)+len(npy)+len(manifest), func() {
			b, err := LoadFS(fsys)
			if err != nil {
				if b != nil {
					t.Fatalf("LoadFS returned a bundle with error %v", err)
				}
				return
			}
			for _, w := range b.Model.Weights() {
				if CheckFinite(w.Value) >= 0 {
					t.Fatalf("layer %q %s holds a non-finite value", w.Layer, w.Name)
				}
			}
		})
	})
}

// TestHostileSizes pins the fuzzing findings fixed in npy.go and
// manifest.go (package kerasconfig has those of the config): sizes announced by a file or a config are checked before
// anything that big is allocated.
func TestHostileSizes(t *testing.T) {
	t.Run("npy header announcing 2^31 float64 over 16 bytes", func(t *testing.T) {
		data := rawNPY("<f8", false, []int{46340, 46340}, make([]byte, 16))
		allocbound.Check(t, len(data), func() {
			if _, _, err := ReadNPY(bytes.NewReader(data)); err == nil || !strings.Contains(err.Error(), "truncated data: 16 bytes of 17179164800") {
				t.Errorf("err = %v", err)
			}
		})
	})
	// A self-test with more samples than the layer outputs allow.
	m, _, err := kerasconfig.Parse([]byte(`{"class_name":"Sequential","config":{"name":"s","layers":[`+
		`{"class_name":"InputLayer","config":{"batch_input_shape":[null,3],"dtype":"float32","name":"in"}},`+
		`{"class_name":"RepeatVector","config":{"name":"r","n":1000000}},{"class_name":"GlobalAveragePooling1D","config":{"name":"g"}}]}}`), kerasconfig.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := maxSelfTestActivations/activationsPerSample(m) + 1
	fsys := fstest.MapFS{"in.npy": {Data: mustNPY(make([]float32, 3*n), n, 3)}, "out.npy": {Data: mustNPY(make([]float32, 3*n), n, 3)}}
	if _, err := (&SelfTest{Input: "in.npy", Output: "out.npy"}).Run(fsys, m); err == nil || !strings.Contains(err.Error(), "record fewer samples") {
		t.Errorf("self-test of %d samples: err = %v", n, err)
	}
}
