// Package server is seqcast's HTTP server as a program runs it: the
// command line and environment of `seqcast serve` (every flag, every
// SEQCAST_* variable), the model registry, the prediction cache (in
// process or Redis), the API (package api), reloads on SIGHUP and a
// draining stop on SIGTERM/SIGINT, behind one entry point, Main.
//
// cmd/seqcast's serve command is Main with the built-in layers. A team
// whose model uses a Keras layer class of its own builds its own static
// binary that serves it, with the same flags, by passing the class in
// Options.Layers (see package layers and examples/positional):
//
//	package main
//
//	import (
//		"context"
//		"os"
//
//		"github.com/seqcast/seqcast/examples/positional"
//		"github.com/seqcast/seqcast/layers"
//		"github.com/seqcast/seqcast/server"
//	)
//
//	func main() {
//		custom := layers.Set{"PositionalEncoding": {Build: positional.Build}}
//		os.Exit(server.Main(context.Background(), os.Args[1:], server.Options{Layers: custom}))
//	}
//
// then `CGO_ENABLED=0 go build -o epidemic-server .` and
// `./epidemic-server --model transformer_model_optimized.keras`.
//
// Files: server.go (Options, Main, the flags, the serve loop and its
// shutdown), versions.go (--version-labels, --default-version), pprof.go
// (--pprof-addr).
package server
