package hdf5_test

import (
	"bytes"
	"fmt"
	"os"

	"github.com/seqcast/seqcast/hdf5"
)

// Read a dataset and an attribute of an h5py-written file.
func Example() {
	b, err := os.ReadFile("testdata/tiny.h5")
	if err != nil {
		panic(err)
	}
	f, err := hdf5.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		panic(err)
	}
	root := f.Root()
	fmt.Println(root.Children())

	d, err := root.Dataset("w")
	if err != nil {
		panic(err)
	}
	v, err := d.ReadFloat32()
	if err != nil {
		panic(err)
	}
	fmt.Println(d.DType, d.Shape(), v)

	a, err := root.Attr("name")
	if err != nil {
		panic(err)
	}
	s, err := a.String()
	fmt.Println(s, err)
	// Output:
	// [w]
	// <f4 [2 2] [1 2 3 4]
	// dense_1 <nil>
}
