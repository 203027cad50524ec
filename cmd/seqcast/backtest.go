package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/seqcast/seqcast/backtest"
	"github.com/seqcast/seqcast/internal/kerasflags"
	"github.com/seqcast/seqcast/serving"
)

// runBacktest measures a model on a series from a CSV file:
//
//	seqcast backtest --model FILE|DIR --csv DATA.csv [--column NAME | --columns A,B,C --target NAME]
//	    [--date-column NAME] [--test-from DATE | --test-fraction 0.2] [--horizon H] [--season S]
//	    [--out backtest.json|DIR] [--plot backtest.svg] [--json]
//
// Every window of the test period goes through the served path (scaler,
// forward pass, inverse, recursive steps; package backtest), and the
// errors per step are written as backtest.json, the file that gives a
// served model its prediction intervals and confidence labels.
func runBacktest(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "", "bundle directory, Keras .h5/.keras file, or a version folder holding one (required)")
	csvPath := fs.String("csv", "", "the series: a CSV file with a header row (required)")
	column := fs.String("column", "", "the series' column (univariate model; default: the only column besides the dates)")
	columns := fs.String("columns", "", "the model's input columns, comma-separated, in the model's feature order (multivariate model)")
	target := fs.String("target", "", "with --columns: the column the model forecasts")
	dateCol := fs.String("date-column", "", "the dates' column (default: a column named date, time, datetime, timestamp or ds)")
	testFrom := fs.String("test-from", "", "first date of the test period (its first target); needs dates")
	testFrac := fs.Float64("test-fraction", 0.2, "without --test-from: the last share of the rows is the test period")
	horizon := fs.Int("horizon", 20, "recursive steps to measure (1 for a multivariate model)")
	season := fs.Int("season", 0, "seasonal naive baseline with this period in rows (7: weekly cycle in daily data, 12: monthly data)")
	level := fs.Float64("level", 0.9, "the intervals' nominal coverage")
	errMode := fs.String("errors", "auto", "interval errors: relative ((actual-p)/|p|), absolute (actual-p, for series near or crossing zero), or auto")
	keepGaps := fs.Bool("keep-gaps", false, "keep test windows that span a gap in the dates (default: left out)")
	out := fs.String("out", "", "write backtest.json here: a file, a bundle directory (its manifest's checksum is updated) or the folder of a Keras file")
	plot := fs.String("plot", "", "write an SVG chart: the test period with forecast and interval band, and the error distribution")
	asJSON := fs.Bool("json", false, "print backtest.json to stdout instead of the table")
	name := fs.String("name", "", "model name in backtest.json (default: the bundle folder's or Keras file's name)")
	trainStats := fs.String("train-stats", "", "also write training_stats.json (what the model saw in training: docs/bundle-format.md) from the training part of the CSV: a file or a bundle directory (its manifest's checksum is updated)")
	trainTo := fs.String("train-to", "", "with --train-stats: the last target date of the training part (default: the rows before the test period)")
	var kf kerasflags.Flags
	kf.Register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: seqcast backtest --model FILE|DIR --csv DATA.csv [--column NAME | --columns A,B,C --target NAME]\n"+
			"    [--date-column NAME] [--test-from DATE | --test-fraction 0.2] [--horizon H] [--season S]\n"+
			"    [--out backtest.json|DIR] [--plot backtest.svg] [--json]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	kf.Set = set
	usage := func(msg string) int {
		fmt.Fprintf(stderr, "seqcast backtest: %s\n", msg)
		fs.Usage()
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return usage(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	case *model == "" || *csvPath == "":
		return usage("--model and --csv are required")
	case *column != "" && *columns != "":
		return usage("--column and --columns are exclusive (--column for a univariate model)")
	case *column != "" && *target != "" && *target != *column:
		return usage("--target goes with --columns; a univariate model forecasts its --column")
	case *horizon < 1:
		return usage(fmt.Sprintf("--horizon: want at least 1, got %d", *horizon))
	case set["test-from"] && set["test-fraction"]:
		return usage("--test-from and --test-fraction are exclusive")
	}
	if err := kf.Check(); err != nil {
		return usage(err.Error())
	}
	cfg := backtest.Config{TestFraction: *testFrac, Horizon: *horizon, Season: *season, Level: *level, Errors: *errMode, KeepGaps: *keepGaps}
	if *testFrom != "" {
		d, err := backtest.ParseDate(*testFrom)
		if err != nil {
			return usage("--test-from: " + err.Error())
		}
		cfg.TestFrom = d
	}
	copts := backtest.CSVOptions{Target: *target, DateColumn: *dateCol}
	if *column != "" {
		copts.Target = *column
	}
	if *columns != "" {
		for _, c := range strings.Split(*columns, ",") {
			copts.Columns = append(copts.Columns, strings.TrimSpace(c))
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fail := func(err error) int {
		fmt.Fprintf(stderr, "seqcast backtest: %v\n", err)
		return 1
	}
	f, err := os.Open(*csvPath)
	if err != nil {
		return fail(err)
	}
	series, err := backtest.ReadCSV(f, copts)
	f.Close()
	if err != nil {
		return fail(fmt.Errorf("%s: %w", *csvPath, err))
	}
	src, err := backtestSource(*model)
	if err != nil {
		return fail(err)
	}
	b, err := readSource(src, kf.Options())
	if err != nil {
		return fail(err)
	}
	mname := *name
	if mname == "" {
		mname = modelName(*model)
	}
	bar := newProgress(stderr)
	m, err := serving.New(ctx, b, mname, 0, bar.observe)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", *model, err))
	}
	if !set["horizon"] && !m.Univariate() {
		cfg.Horizon = 1
	}
	bar.start(cfg.Horizon)
	res, err := backtest.Run(ctx, m, series, cfg)
	bar.done()
	if err != nil {
		var ce *backtest.ConfigError
		if errors.As(err, &ce) && ce.Field != "" && ce.Field != "model" {
			return usage(err.Error())
		}
		return fail(err)
	}
	file := res.File(filepath.Base(*csvPath))
	data, err := file.Marshal()
	if err != nil {
		return fail(err)
	}
	if *asJSON {
		stdout.Write(data)
	} else {
		io.WriteString(stdout, backtest.Report(res, *csvPath))
	}
	msg := stderr
	if !*asJSON {
		msg = stdout
	}
	if *out != "" {
		written, err := backtest.Install(*out, data)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(msg, "wrote %s\n", strings.Join(written, ", "))
	}
	if *trainStats != "" {
		data, err := trainingStats(b, m, series, cfg, *trainTo)
		if err != nil {
			return fail(fmt.Errorf("--train-stats: %w", err))
		}
		written, err := backtest.InstallFile(*trainStats, serving.TrainingStatsFile, data)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(msg, "wrote %s\n", strings.Join(written, ", "))
	}
	if *plot != "" {
		if err := os.WriteFile(*plot, backtest.Plot(res), 0o644); err != nil {
			return fail(err)
		}
		fmt.Fprintf(msg, "wrote %s\n", *plot)
	}
	return 0
}

// backtestSource is the model source of --model: a bundle directory, a
// Keras file, or a version folder holding one Keras file.
func backtestSource(p string) (string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return p, nil
	}
	if _, err := os.Stat(filepath.Join(p, "model.json")); err == nil {
		return p, nil
	}
	var keras []string
	for _, ext := range []string{"*.keras", "*.h5"} {
		m, _ := filepath.Glob(filepath.Join(p, ext))
		keras = append(keras, m...)
	}
	if len(keras) == 1 {
		return keras[0], nil
	}
	return "", fmt.Errorf("%s: holds no model.json and %d Keras files: want a bundle, a Keras file, or a folder with one Keras file", p, len(keras))
}

// modelName is the name a model source is served under: a Keras file's
// name without extension, a bundle folder's name, and for a models dir's
// NAME/VERSION folder (or a Keras file in it), NAME.
func modelName(p string) string {
	p = filepath.Clean(p)
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		if _, err := serving.ParseVersionDir(filepath.Base(filepath.Dir(p))); err == nil {
			return filepath.Base(filepath.Dir(filepath.Dir(p)))
		}
		return strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
	}
	if _, err := serving.ParseVersionDir(filepath.Base(p)); err == nil {
		return filepath.Base(filepath.Dir(p))
	}
	return filepath.Base(p)
}

// progress draws a bar on stderr while a backtest runs, only when stderr
// is a terminal and the run has taken more than progressDelay.
type progress struct {
	w         io.Writer
	tty       bool
	mu        sync.Mutex
	t0        time.Time
	steps     int
	stepsDone int
	drawn     bool
	started   bool
}

const progressDelay = 500 * time.Millisecond

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		p.tty = isTerminal(f)
	}
	return p
}

func (p *progress) start(steps int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.t0, p.steps, p.started = time.Now(), steps, true
}

// observe is the model's forward observer: one call per step's pass.
func (p *progress) observe(_ string, _ int64, batch int, _ time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.started || !p.tty {
		return
	}
	p.stepsDone++
	if time.Since(p.t0) < progressDelay && !p.drawn {
		return
	}
	const width = 30
	k := min(width, width*p.stepsDone/max(p.steps, 1))
	fmt.Fprintf(p.w, "\rbacktest [%s%s] step %d/%d, %d windows ", strings.Repeat("#", k), strings.Repeat(".", width-k), p.stepsDone, p.steps, batch)
	p.drawn = true
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", 70))
	}
	p.started = false
}
