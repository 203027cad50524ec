package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/seqcast/seqcast/backtest"
	"github.com/seqcast/seqcast/internal/kerasflags"
	"github.com/seqcast/seqcast/serving"
)

// runImport turns a Keras file into a bundle directory, in pure Go: the
// files tools/export_keras.py writes for the same arguments.
//
//	seqcast import MODEL.h5|MODEL.keras --out DIR [--scaler-x X.pkl] [--scaler-y Y.pkl]
//	    [--window-zscore [--epsilon E] [--target-feature K]] [--window N]
//	    [--self-test-input X.npy --self-test-output Y.npy [--self-test-tolerance T]]
//	    [--name N] [--version V] [--force] [--train-csv TRAIN.csv [--train-columns A,B]]
//
// The bundle is built and loaded (network, weights, scaler, self-test)
// before anything is written: a model seqcast cannot run is refused here.
func runImport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var kf kerasflags.Flags
	kf.Register(fs)
	out := fs.String("out", "", "bundle directory to write (required)")
	stIn := fs.String("self-test-input", "", ".npy (N, T, F): model inputs, already scaled")
	stOut := fs.String("self-test-output", "", ".npy: what model.predict returned for them")
	stTol := fs.Float64("self-test-tolerance", 1e-4, "self-test max |difference|")
	name := fs.String("name", "", "model name (default: the file name without extension)")
	ver := fs.String("version", "1", "model version string")
	force := fs.Bool("force", false, "replace an existing bundle at --out")
	trainCSV := fs.String("train-csv", "", "also write training_stats.json (what the model saw in training: docs/bundle-format.md) from this CSV of the training data (a header row; a date column is optional)")
	trainCols := fs.String("train-columns", "", "with --train-csv: the model's input columns, comma-separated, in feature order (default: the only column besides the dates)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: seqcast import MODEL.h5|MODEL.keras --out DIR [flags]")
		fs.PrintDefaults()
	}
	pos, set, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	kf.Set = set
	usage := func(msg string) int {
		fmt.Fprintf(stderr, "seqcast import: %s\n", msg)
		fs.Usage()
		return 2
	}
	switch {
	case len(pos) != 1:
		return usage("give one Keras .h5 or .keras file")
	case *out == "":
		return usage("--out is required")
	case (*stIn == "") != (*stOut == ""):
		return usage("--self-test-input and --self-test-output go together")
	case set["self-test-tolerance"] && *stIn == "":
		return usage("--self-test-tolerance needs --self-test-input and --self-test-output")
	}
	if err := kf.Check(); err != nil {
		return usage(err.Error())
	}
	opts := kf.Options()
	opts.SelfTestInput, opts.SelfTestOutput = *stIn, *stOut
	if *stIn != "" {
		opts.SelfTestTolerance = stTol
	}
	opts.Name, opts.Version = *name, *ver

	src := pos[0]
	if st, err := os.Stat(src); err == nil && st.IsDir() {
		fmt.Fprintf(stderr, "seqcast import: %s is a directory; give a Keras .h5 or .keras file\n", src)
		return 1
	}
	b, wb, err := loadSource(src, opts)
	if err != nil {
		fmt.Fprintf(stderr, "seqcast import: %v\n", err)
		return 1
	}
	var stats []byte
	if *trainCSV != "" {
		if stats, err = importTrainingStats(b, wb.Model.InputShape(), *trainCSV, *trainCols); err != nil {
			fmt.Fprintf(stderr, "seqcast import: --train-csv %s: %v\n", *trainCSV, err)
			return 1
		}
	}
	if err := b.WriteDir(*out, *force); err != nil {
		fmt.Fprintf(stderr, "seqcast import: %v\n", err)
		return 1
	}
	if stats != nil {
		if _, err := backtest.InstallFile(*out, serving.TrainingStatsFile, stats); err != nil {
			fmt.Fprintf(stderr, "seqcast import: %v\n", err)
			return 1
		}
	}
	msg := fmt.Sprintf("seqcast import: wrote %s: %d weight arrays, %d parameters, %d files",
		*out, len(wb.Model.Weights()), wb.Model.ParamCount(), len(b.Names()))
	if wb.SelfTestError >= 0 {
		msg += fmt.Sprintf(", self-test max |error| %.3g", wb.SelfTestError)
	}
	fmt.Fprintln(stdout, msg)
	return 0
}
