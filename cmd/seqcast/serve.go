package main

import (
	"context"
	"io"
	"os"

	"github.com/seqcast/seqcast/server"
)

// runServe serves models over HTTP until SIGTERM or SIGINT: package
// server's Main, with the built-in layers only.
func runServe(args []string, stdout, stderr io.Writer) int {
	return serveMain(context.Background(), args, os.Getenv, nil, nil, stdout, stderr)
}

// serveMain is runServe with its environment injected (tests): getenv reads
// variables, hup (nil: SIGHUP) delivers reload requests, and ready (if not
// nil) receives the listening address once every model is loaded.
func serveMain(ctx context.Context, args []string, getenv func(string) string, hup <-chan os.Signal, ready chan<- string, stdout, stderr io.Writer) int {
	return server.Main(ctx, args, server.Options{Version: version, Commit: commit,
		Stdout: stdout, Stderr: stderr, Getenv: getenv, Hangup: hup, Ready: ready})
}
