package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/seqcast/seqcast/nn"
	"github.com/seqcast/seqcast/weights"
)

// benchInputs is how many distinct input batches each bench loop cycles
// through, as ../shared/bench/ort-bench.js does.
const benchInputs = 8

// benchOptions are seqcast bench's flags.
type benchOptions struct {
	model    string
	batch    int
	threads  int
	duration time.Duration
	warmup   time.Duration
	layers   bool
}

// benchResult is what seqcast bench measured; --json prints it as one
// object with the same keys as ort-bench.js (plus allocs_per_op and calls).
type benchResult struct {
	Engine      string      `json:"engine"`
	Batch       int         `json:"batch"`
	Threads     int         `json:"threads"`
	P50         float64     `json:"p50_us"`
	P90         float64     `json:"p90_us"`
	P99         float64     `json:"p99_us"`
	SamplesPerS float64     `json:"samples_per_s"`
	AllocsPerOp float64     `json:"allocs_per_op"`
	Calls       int         `json:"calls"`
	MaxAbsErr   *float64    `json:"max_abs_err,omitempty"` // vs expected.npy, when the bundle has one
	Input       string      `json:"input"`                 // "input.npy" or "random"
	Layers      []layerTime `json:"layers,omitempty"`      // with --layers
}

// layerTime is one node's share of a forward pass, timed by calling the
// layers one by one on a single goroutine.
type layerTime struct {
	Name  string  `json:"name"`
	Class string  `json:"class"`
	Shape string  `json:"shape"`
	P50   float64 `json:"p50_us"` // median microseconds per call
	Share float64 `json:"share"`  // of the sum of the layers' medians
}

// runBench times Model.Forward in-process:
//
//	seqcast bench --model DIR --batch N --duration 5s [--threads K] [--warmup 1s] [--json]
//
// Inputs come from the bundle's input.npy when it has one (samples cycled
// into batches), otherwise from a seeded random generator. Each of the K
// goroutines runs its own loop of Forward calls; latencies are per call.
func runBench(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("bench", flag.ContinueOnError)
	fset.SetOutput(stderr)
	var o benchOptions
	fset.StringVar(&o.model, "model", "", "bundle directory (model.json, weights/, optional input.npy and expected.npy)")
	fset.IntVar(&o.batch, "batch", 1, "samples per Forward call")
	fset.IntVar(&o.threads, "threads", 1, "goroutines, each running its own loop of Forward calls (GOMAXPROCS is left as is)")
	fset.DurationVar(&o.duration, "duration", 5*time.Second, "length of the timed loop")
	fset.DurationVar(&o.warmup, "warmup", time.Second, "untimed warm-up before the timed loop")
	fset.BoolVar(&o.layers, "layers", false, "also time each layer, calling the layers one by one on one goroutine for --duration (the whole batch at once, not in Forward's chunks)")
	asJSON := fset.Bool("json", false, "print one JSON object (keys batch, threads, p50_us, p90_us, p99_us, samples_per_s, allocs_per_op, ...)")
	fset.Usage = func() {
		fmt.Fprintln(stderr, "Usage: seqcast bench --model DIR [--batch N] [--duration 5s] [--threads K] [--warmup 1s] [--layers] [--json]")
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		return 2
	}
	var bad []string
	if o.model == "" {
		bad = append(bad, "--model is required")
	}
	if o.batch < 1 {
		bad = append(bad, fmt.Sprintf("--batch must be positive, got %d", o.batch))
	}
	if o.threads < 1 {
		bad = append(bad, fmt.Sprintf("--threads must be positive, got %d", o.threads))
	}
	if o.duration <= 0 {
		bad = append(bad, fmt.Sprintf("--duration must be positive, got %v", o.duration))
	}
	if o.warmup < 0 {
		bad = append(bad, fmt.Sprintf("--warmup must not be negative, got %v", o.warmup))
	}
	if fset.NArg() > 0 {
		bad = append(bad, fmt.Sprintf("unexpected argument %q", fset.Arg(0)))
	}
	if len(bad) > 0 {
		fmt.Fprintf(stderr, "seqcast bench: %s\n", strings.Join(bad, "; "))
		fset.Usage()
		return 2
	}
	r, m, err := bench(o)
	if err != nil {
		fmt.Fprintf(stderr, "seqcast bench: %v\n", err)
		return 1
	}
	if *asJSON {
		data, err := json.Marshal(r)
		if err != nil {
			fmt.Fprintf(stderr, "seqcast bench: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s\n", data)
		return 0
	}
	printBench(stdout, o, r, m)
	return 0
}

func printBench(w io.Writer, o benchOptions, r *benchResult, m *nn.Model) {
	var b strings.Builder
	fmt.Fprintf(&b, "model %q, %s parameters, input %s\n", m.Name(), commas(m.ParamCount()), r.Input)
	fmt.Fprintf(&b, "batch %d, %d goroutine(s), GOMAXPROCS %d, %v timed after %v warm-up\n",
		r.Batch, r.Threads, runtime.GOMAXPROCS(0), o.duration, o.warmup)
	fmt.Fprintf(&b, "calls        %d\n", r.Calls)
	fmt.Fprintf(&b, "p50          %.1f us/call\n", r.P50)
	fmt.Fprintf(&b, "p90          %.1f us/call\n", r.P90)
	fmt.Fprintf(&b, "p99          %.1f us/call\n", r.P99)
	fmt.Fprintf(&b, "samples/s    %.0f\n", r.SamplesPerS)
	fmt.Fprintf(&b, "allocs/call  %.3g\n", r.AllocsPerOp)
	if r.MaxAbsErr != nil {
		fmt.Fprintf(&b, "max |err|    %.3g vs expected.npy\n", *r.MaxAbsErr)
	}
	if len(r.Layers) > 0 {
		fmt.Fprintf(&b, "\nper layer (one goroutine, layers called one by one, median per call of batch %d):\n", r.Batch)
		w := len("layer")
		for _, l := range r.Layers {
			w = max(w, len(l.Name)+len(l.Class)+3)
		}
		for _, l := range r.Layers {
			fmt.Fprintf(&b, "  %-*s %-16s %10.1f us %5.1f%%\n", w, l.Name+" ("+l.Class+")", l.Shape, l.P50, 100*l.Share)
		}
	}
	io.WriteString(w, b.String())
}

// bench loads the bundle, builds the input batches, checks the model
// against expected.npy when present, and runs the timed loops.
func bench(o benchOptions) (*benchResult, *nn.Model, error) {
	bundle, err := weights.Load(o.model)
	if err != nil {
		return nil, nil, err
	}
	m := bundle.Model
	per := m.InputShape().Size()
	outPer := m.OutputShape().Size()
	r := &benchResult{Engine: "seqcast", Batch: o.batch, Threads: o.threads, Input: "input.npy"}

	x, n, err := benchSamples(o.model, m)
	if err != nil {
		return nil, nil, err
	}
	if x == nil {
		r.Input = "random"
		n = 64
		rng := rand.New(rand.NewPCG(1, 2))
		x = make([]float32, n*per)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
	} else if maxErr, ok, err := benchCheck(o.model, m, x, n); err != nil {
		return nil, nil, err
	} else if ok {
		r.MaxAbsErr = &maxErr
	}

	// Cycle the samples into benchInputs batches, shared read-only by every
	// goroutine: batch k holds samples k*batch, k*batch+1, ... (mod n).
	inputs := make([][]float32, benchInputs)
	for k := range inputs {
		d := make([]float32, o.batch*per)
		for i := range o.batch {
			j := (k*o.batch + i) % n
			copy(d[i*per:(i+1)*per], x[j*per:(j+1)*per])
		}
		inputs[k] = d
	}

	loops := make([]benchLoop, o.threads)
	for i := range loops {
		loops[i] = benchLoop{m: m, inputs: inputs, batch: o.batch, dst: make([]float32, o.batch*outPer)}
	}

	// Warm up every goroutine at once, then hold them at the start line
	// while the allocation counter is read.
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	var t0 time.Time
	for i := range loops {
		l := &loops[i]
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			l.warm(o.warmup, o.duration)
			ready.Done()
			<-start
			l.timed(t0.Add(o.duration))
		}()
	}
	ready.Wait()
	for _, l := range loops {
		if l.err != nil {
			close(start)
			done.Wait()
			return nil, nil, l.err
		}
	}
	// No runtime.GC() here: a collection empties the model's sync.Pool, and
	// refilling it would be charged to the timed loop.
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	t0 = time.Now()
	close(start) // happens-before every goroutine's read of t0
	done.Wait()
	wall := time.Since(t0)
	runtime.ReadMemStats(&ms1)

	var lat []time.Duration
	for _, l := range loops {
		if l.err != nil {
			return nil, nil, l.err
		}
		lat = append(lat, l.lat...)
	}
	r.Calls = len(lat)
	slices.Sort(lat)
	r.P50, r.P90, r.P99 = percentile(lat, 0.5), percentile(lat, 0.9), percentile(lat, 0.99)
	r.SamplesPerS = float64(r.Calls*o.batch) / wall.Seconds()
	r.AllocsPerOp = float64(ms1.Mallocs-ms0.Mallocs) / float64(r.Calls)
	if o.layers {
		r.Layers = layerTimes(m, inputs, o.batch, o.duration)
	}
	return r, m, nil
}

// layerTimes runs the model's graph by hand, the way Model.Forward does,
// timing each node's Forward, for d (at least 3 passes).
func layerTimes(m *nn.Model, inputs [][]float32, batch int, d time.Duration) []layerTime {
	nodes := m.Nodes()
	outs := make([][]float32, len(nodes))
	maxScratch, maxIns := 0, 0
	for i, nd := range nodes {
		outs[i] = make([]float32, batch*m.NodeShape(i).Size())
		maxScratch = max(maxScratch, nd.Layer.ScratchSize(batch))
		maxIns = max(maxIns, len(nd.Inputs))
	}
	scratch := make([]float32, maxScratch)
	ins := make([][]float32, maxIns)
	times := make([][]time.Duration, len(nodes))
	passes := 0
	for end := time.Now().Add(d); passes < 3 || time.Now().Before(end); passes++ {
		x := inputs[passes%len(inputs)]
		for i, nd := range nodes {
			in := ins[:len(nd.Inputs)]
			for j, k := range nd.Inputs {
				if k == nn.Input {
					in[j] = x
				} else {
					in[j] = outs[k]
				}
			}
			a := time.Now()
			nd.Layer.Forward(outs[i], in, batch, scratch[:nd.Layer.ScratchSize(batch)])
			times[i] = append(times[i], time.Since(a))
		}
	}
	lt := make([]layerTime, len(nodes))
	sum := 0.0
	for i, nd := range nodes {
		slices.Sort(times[i])
		lt[i] = layerTime{Name: nd.Layer.Name(), Class: nd.Layer.Class(), Shape: m.NodeShape(i).String(), P50: percentile(times[i], 0.5)}
		sum += lt[i].P50
	}
	for i := range lt {
		lt[i].Share = lt[i].P50 / max(sum, 1e-9)
	}
	return lt
}

// percentile is ort-bench.js's: the ceil(p*n)-th smallest, in microseconds.
func percentile(sorted []time.Duration, p float64) float64 {
	i := min(len(sorted)-1, max(0, int(math.Ceil(p*float64(len(sorted))))-1))
	return float64(sorted[i]) / float64(time.Microsecond)
}

// benchLoop is one goroutine's loop of Forward calls.
type benchLoop struct {
	m      *nn.Model
	inputs [][]float32
	batch  int
	dst    []float32
	k      int             // calls so far, cycling through inputs
	lat    []time.Duration // per timed call
	err    error
}

func (l *benchLoop) call() bool {
	if err := l.m.Forward(l.dst, l.inputs[l.k%len(l.inputs)], l.batch); err != nil {
		l.err = err
		return false
	}
	l.k++
	return true
}

// warm runs calls for d (at least 3 of them) and sizes the latency record
// from the fastest call, so that the timed loop never grows it (an
// allocation the counter would charge to Forward).
func (l *benchLoop) warm(d, timed time.Duration) {
	fastest := time.Duration(math.MaxInt64)
	end := time.Now().Add(d)
	for i := 0; ; i++ {
		a := time.Now()
		if i >= 3 && !a.Before(end) {
			break
		}
		if !l.call() {
			return
		}
		fastest = min(fastest, time.Since(a))
	}
	want := int64(timed/max(fastest, time.Microsecond))*5/4 + 64
	l.lat = make([]time.Duration, 0, min(want, 1<<26))
}

// timed runs calls until end, at least 10 of them, as ort-bench.js does.
func (l *benchLoop) timed(end time.Time) {
	if l.err != nil {
		return
	}
	for {
		a := time.Now()
		if !a.Before(end) && len(l.lat) >= 10 {
			return
		}
		if !l.call() {
			return
		}
		l.lat = append(l.lat, time.Since(a))
	}
}

// benchSamples reads DIR/input.npy, which must be (N, ...model input); it
// returns nil when the bundle has none.
func benchSamples(dir string, m *nn.Model) ([]float32, int, error) {
	x, shape, err := benchNPY(filepath.Join(dir, "input.npy"))
	if x == nil || err != nil {
		return nil, 0, err
	}
	in := m.InputShape()
	if len(shape) != len(in)+1 || shape[0] < 1 || !nn.Shape(shape[1:]).Equal(in) {
		return nil, 0, fmt.Errorf("%s has shape %s; the model wants (N, %s)", filepath.Join(dir, "input.npy"),
			weights.FormatShape(shape), strings.Trim(weights.FormatShape(in), "(),"))
	}
	return x, shape[0], nil
}

// benchCheck runs the n samples of x in one batch and returns the largest
// |difference| from DIR/expected.npy; ok is false when there is none.
func benchCheck(dir string, m *nn.Model, x []float32, n int) (maxErr float64, ok bool, err error) {
	name := filepath.Join(dir, "expected.npy")
	want, shape, err := benchNPY(name)
	if want == nil || err != nil {
		return 0, false, err
	}
	if out := m.OutputShape(); len(shape) != len(out)+1 || shape[0] != n || !nn.Shape(shape[1:]).Equal(out) {
		return 0, false, fmt.Errorf("%s has shape %s; want (%d, %s) for input.npy's %d samples", name,
			weights.FormatShape(shape), n, strings.Trim(weights.FormatShape(out), "(),"), n)
	}
	got, err := m.Predict(x, n)
	if err != nil {
		return 0, false, err
	}
	for i := range got {
		maxErr = max(maxErr, math.Abs(float64(got[i])-float64(want[i])))
	}
	return maxErr, true, nil
}

// benchNPY reads an optional .npy: nil data and no error when it does not
// exist.
func benchNPY(name string) ([]float32, []int, error) {
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	x, shape, err := weights.ReadNPY(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return x, shape, nil
}
