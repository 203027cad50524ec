package main

import (
	"archive/zip"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/seqcast/seqcast/weights"
)

// maxNPZEntries bounds the arrays an .npz may hold; a model has at most
// kerasconfig.MaxModelIO inputs.
const maxNPZEntries = 1024

// readNPZ reads the arrays of an .npz (numpy.savez or savez_compressed) in
// the order of names: entry "<name>.npy" for each. A model with a single
// input also takes an .npz holding a single array, whatever its key. An
// array the model does not take, or one it needs and the archive lacks, is
// an error naming both lists.
func readNPZ(file string, names []string) ([]namedArray, error) {
	z, err := zip.OpenReader(file)
	if err != nil {
		return nil, fmt.Errorf("input %s: not an .npz (zip) archive: %w", file, err)
	}
	defer z.Close()
	if len(z.File) > maxNPZEntries {
		return nil, fmt.Errorf("input %s: %d entries, more than the %d an .npz of model inputs may hold", file, len(z.File), maxNPZEntries)
	}
	entries := map[string]*zip.File{}
	var keys []string
	for _, f := range z.File {
		key, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok || f.FileInfo().IsDir() {
			return nil, fmt.Errorf("input %s: entry %q is not an .npy array", file, f.Name)
		}
		if _, dup := entries[key]; dup {
			return nil, fmt.Errorf("input %s: array %q is there twice", file, key)
		}
		entries[key] = f
		keys = append(keys, key)
	}
	slices.Sort(keys)
	if len(names) == 1 && len(keys) == 1 {
		names = keys
	}
	for _, k := range keys {
		if !slices.Contains(names, k) {
			return nil, fmt.Errorf("input %s holds array %q, which is not a model input (the model's inputs: %s; the archive's arrays: %s)",
				file, k, strings.Join(names, ", "), strings.Join(keys, ", "))
		}
	}
	out := make([]namedArray, len(names))
	for j, name := range names {
		f, ok := entries[name]
		if !ok {
			return nil, fmt.Errorf("input %s has no array %q (the model's inputs: %s; the archive's arrays: %s)",
				file, name, strings.Join(names, ", "), strings.Join(keys, ", "))
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("input %s[%q]: %w", file, name, err)
		}
		x, shape, err := weights.ReadNPY(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("input %s[%q]: %w", file, name, err)
		}
		out[j] = namedArray{name: name, data: x, shape: shape}
	}
	return out, nil
}

// writeNPZ writes the arrays as an .npz that numpy.load reads (stored
// entries "<name>.npy", as numpy.savez writes them), atomically.
func writeNPZ(file string, arrays []namedArray) error {
	return writeAtomic(file, func(w io.Writer) error {
		zw := zip.NewWriter(w)
		for _, a := range arrays {
			e, err := zw.CreateHeader(&zip.FileHeader{Name: a.name + ".npy", Method: zip.Store})
			if err == nil {
				err = weights.WriteNPY(e, a.data, a.shape)
			}
			if err != nil {
				return err
			}
		}
		return zw.Close()
	})
}
