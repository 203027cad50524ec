// Command seqcast runs Keras-trained time-series forecasters: it loads a
// model bundle (see docs/bundle-format.md) or a Keras .h5/.keras file,
// predicts on .npy arrays, describes models, imports Keras files into
// bundles, and backtests a model on a CSV series.
//
// Usage:
//
//	seqcast import MODEL.h5|MODEL.keras --out DIR [--scaler-x X.pkl] [--scaler-y Y.pkl] ...
//	seqcast predict --model DIR|MODEL.h5|MODEL.keras --input X.npy --output Y.npy
//	seqcast inspect DIR|MODEL.h5|MODEL.keras
//	seqcast backtest --model DIR|MODEL.keras --csv DATA.csv [--column NAME] [--test-from DATE] [--horizon H] [--out DIR]
//	seqcast version
//
// Each subcommand lives in its own file and is listed in commands.
package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// Set at build time by the Makefile:
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=abc1234 -X main.date=2026-01-02T03:04:05Z"
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

// command is one subcommand. run gets the arguments after the subcommand's
// name and returns the exit status: 0 on success, 1 when the work failed,
// 2 for a usage error.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands lists the subcommands. To add one, write its runX in its own
// file and add a line here.
func commands() map[string]command {
	return map[string]command{
		"predict":     {"run a bundle's or Keras file's model on an .npy batch, write the outputs as .npy", runPredict},
		"import":      {"turn a Keras .h5/.keras file (and scaler pickles) into a bundle directory, without Python", runImport},
		"serve":       {"serve forecasts over HTTP (the embedded gold model by default)", runServe},
		"inspect":     {"print a bundle's or Keras file's layers, output shapes and parameter counts", runInspect},
		"backtest":    {"measure a model on a CSV series (rolling origin vs naive), write backtest.json for intervals and an SVG plot", runBacktest},
		"bench":       {"time the forward pass in-process: per-call latency percentiles, samples/s, allocs/call", runBench},
		"healthcheck": {"exit 0 when the local server's /ready answers 200 (container HEALTHCHECK without curl)", runHealthcheck},
		"version":     {"print the version, commit and build date", runVersion},
	}
}

func main() {
	// Once for the process: api.New never changes gin's global mode.
	gin.SetMode(gin.ReleaseMode)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to a subcommand.
func run(args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 {
		usage(stderr, cmds)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout, cmds)
		return 0
	case "-version", "--version":
		args[0] = "version"
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "seqcast: unknown command %q\n\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	return c.run(args[1:], stdout, stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range cmds {
			if !yield(n) {
				return
			}
		}
	})
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	var b strings.Builder
	b.WriteString("seqcast runs Keras-trained time-series forecasters in pure Go.\n\nUsage: seqcast <command> [flags]\n\nCommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, n, cmds[n].summary)
	}
	b.WriteString("\nRun 'seqcast <command> -h' for a command's flags.\n")
	io.WriteString(w, b.String())
}
