package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/seqcast/seqcast/bundle"
	"github.com/seqcast/seqcast/scaler"
	"github.com/seqcast/seqcast/serving"
	"github.com/seqcast/seqcast/weights"
)

// parseInterspersed parses args with fs allowing flags after positional
// arguments (seqcast import MODEL.keras --out DIR), and returns the
// positional ones and the names of the flags set.
func parseInterspersed(fs *flag.FlagSet, args []string) (pos []string, set map[string]bool, err error) {
	for {
		if err := fs.Parse(args); err != nil {
			return nil, nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return pos, set, nil
}

// readSource reads a model source: a bundle directory, or a Keras .h5 or
// .keras file turned into a bundle with opts.
func readSource(path string, opts bundle.KerasOptions) (*bundle.Bundle, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		// A one-shot command: ReadDir still verifies the files did not
		// change while read, without the pause the server waits before it
		// reads a manifest-less bundle a second time.
		return bundle.ReadDir(path, bundle.Options{Settle: time.Nanosecond})
	}
	return bundle.FromKeras(path, opts)
}

// loadSource reads a model source and builds its network with package
// weights (checksums, shapes, self-test), checking its scaler.json against
// the model as the server does. Errors name the source.
func loadSource(path string, opts bundle.KerasOptions) (*bundle.Bundle, *weights.Bundle, error) {
	b, err := readSource(path, opts)
	if err != nil {
		return nil, nil, err
	}
	wb, err := weights.LoadFS(b.FS())
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if wb.ScalerJSON != nil {
		p, err := scaler.Parse(wb.ScalerJSON)
		if err == nil {
			in, out := wb.Model.InputShape(), wb.Model.OutputShape()
			if wb.Model.MultiIO() {
				err = fmt.Errorf("the model has %d inputs and %d outputs; a scaler applies to a model with one (T, F) input and one output", len(wb.Model.InputShapes()), len(wb.Model.OutputShapes()))
			} else if steps, features, werr := serving.WindowShape(in); werr != nil {
				err = werr
			} else {
				err = p.Check(steps, features, out.Size())
			}
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: scaler.json: %w", path, err)
		}
	}
	return b, wb, nil
}
