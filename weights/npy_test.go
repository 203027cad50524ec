package weights

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestNPYRoundTrip(t *testing.T) {
	tests := []struct {
		shape []int
		data  []float32
	}{
		{[]int{2, 3}, []float32{1, 2, 3, 4, 5, -6.5}},
		{[]int{4}, []float32{0, 1, 2, 3}},
		{[]int{1, 2, 1}, []float32{7, 8}},
		{[]int{0, 3}, []float32{}},
		{[]int{}, []float32{42}},
	}
	for _, tt := range tests {
		t.Run(FormatShape(tt.shape), func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteNPY(&buf, tt.data, tt.shape); err != nil {
				t.Fatal(err)
			}
			if buf.Len()%64 != len(tt.data)*4%64 {
				t.Errorf("header is not 64-byte aligned: file of %d bytes", buf.Len())
			}
			data, shape, err := ReadNPY(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if !equalInts(shape, tt.shape) || fmt.Sprint(data) != fmt.Sprint(tt.data) {
				t.Errorf("read %v %v, want %v %v", shape, data, tt.shape, tt.data)
			}
		})
	}
}

// rawNPY builds a .npy file by hand: any dtype, either order.
func rawNPY(descr string, fortran bool, shape []int, payload []byte) []byte {
	fo := "False"
	if fortran {
		fo = "True"
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, fo, FormatShape(shape))
	pad := (64 - (10+len(dict)+1)%64) % 64
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(dict)+pad+1))
	b.WriteString(dict + strings.Repeat(" ", pad) + "\n")
	b.Write(payload)
	return b.Bytes()
}

func f64bytes(order binary.ByteOrder, v ...float64) []byte {
	var b bytes.Buffer
	binary.Write(&b, order, v)
	return b.Bytes()
}

func f32bytes(order binary.ByteOrder, v ...float32) []byte {
	var b bytes.Buffer
	binary.Write(&b, order, v)
	return b.Bytes()
}

func TestReadNPYVariants(t *testing.T) {
	tests := []struct {
		name  string
		file  []byte
		shape []int
		data  []float32
	}{
		{"float64", rawNPY("<f8", false, []int{3}, f64bytes(binary.LittleEndian, 1, 2.5, -3)), []int{3}, []float32{1, 2.5, -3}},
		{"big-endian float32", rawNPY(">f4", false, []int{2}, f32bytes(binary.BigEndian, 1.5, -2)), []int{2}, []float32{1.5, -2}},
		// np.asfortranarray([[1, 2, 3], [4, 5, 6]]) stores 1 4 2 5 3 6.
		{"fortran order", rawNPY("<f4", true, []int{2, 3}, f32bytes(binary.LittleEndian, 1, 4, 2, 5, 3, 6)), []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, shape, err := ReadNPY(bytes.NewReader(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !equalInts(shape, tt.shape) || fmt.Sprint(data) != fmt.Sprint(tt.data) {
				t.Errorf("read %v %v, want %v %v", shape, data, tt.shape, tt.data)
			}
		})
	}
}

func TestReadNPYErrors(t *testing.T) {
	good := rawNPY("<f4", false, []int{2, 2}, f32bytes(binary.LittleEndian, 1, 2, 3, 4))
	huge := []byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f{'descr'")
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"int64", rawNPY("<i8", false, []int{1}, make([]byte, 8)), "dtype <i8 is not supported"},
		{"truncated", good[:len(good)-4], "truncated"},
		{"truncated mid-value", good[:len(good)-2], "npy"},
		{"bad magic", []byte("PK\x03\x04 not npy at all"), "bad magic"},
		{"empty", nil, "unexpected EOF"},
		{"huge header", huge, "too long"},
		{"no newline", []byte("\x93NUMPY\x01\x00\x08\x00{'a': 1}"), "malformed header"},
		{"garbage header", rawNPY("<f4", false, nil, nil)[:10+5], "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ReadNPY(bytes.NewReader(tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, _, err := ReadNPYLimit(bytes.NewReader(good), 3); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("ReadNPYLimit: err = %v, want a limit error", err)
	}
}

func TestCheckFinite(t *testing.T) {
	if i := CheckFinite([]float32{1, 2, float32(math.Inf(-1))}); i != 2 {
		t.Errorf("CheckFinite = %d, want 2", i)
	}
	if i := CheckFinite([]float32{float32(math.NaN())}); i != 0 {
		t.Errorf("CheckFinite = %d, want 0", i)
	}
	if i := CheckFinite([]float32{1, 2}); i != -1 {
		t.Errorf("CheckFinite = %d, want -1", i)
	}
}

func BenchmarkReadNPY(b *testing.B) {
	data := make([]float32, 128*256)
	var buf bytes.Buffer
	if err := WriteNPY(&buf, data, []int{128, 256}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, _, err := ReadNPY(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}
