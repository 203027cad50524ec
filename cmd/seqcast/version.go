package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// runVersion prints the version, commit and build date set by -ldflags, or
// what the Go toolchain recorded when they were not set.
func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "Usage: seqcast version") }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	v, c, d := version, commit, date
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && c == "unknown" && len(s.Value) >= 7:
				c = s.Value[:7]
			case s.Key == "vcs.time" && d == "unknown":
				d = s.Value
			}
		}
	}
	fmt.Fprintf(stdout, "seqcast %s\ncommit: %s\ndate: %s\ngo: %s %s/%s\n", v, c, d, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return 0
}
