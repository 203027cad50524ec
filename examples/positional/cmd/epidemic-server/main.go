// Command epidemic-server is seqcast's server with one layer class more:
// the PositionalEncoding of the epidemic-transformer fixture (package
// positional). It takes every flag and environment variable of
// `seqcast serve`:
//
//	CGO_ENABLED=0 go build -o epidemic-server ./examples/positional/cmd/epidemic-server
//	./epidemic-server --model kerasfile/testdata/survey/epidemic-transformer/transformer_model_optimized.keras
//
// A team's own server is this file with its own layers.
package main

import (
	"context"
	"os"

	"github.com/seqcast/seqcast/examples/positional"
	"github.com/seqcast/seqcast/layers"
	"github.com/seqcast/seqcast/server"
)

func main() {
	custom := layers.Set{"PositionalEncoding": {Build: positional.Build}}
	os.Exit(server.Main(context.Background(), os.Args[1:], server.Options{Layers: custom}))
}
