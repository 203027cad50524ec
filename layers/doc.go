// Package layers is how a program that imports seqcast adds Keras layer
// classes of its own: a layer a team wrote in Python (a PositionalEncoding,
// say) has no meaning to any engine, so the program supplies it in Go and
// passes it, as a value, to whatever loads models.
//
// A Set maps a class name to a Layer: a kerasconfig.Builder (config in,
// unbuilt nn.Layer out) and, when the layer has weights, their names in
// get_weights() order, which is how .h5 and .keras files are read in the
// right order. The same Set goes to every loader:
//
//	bundle.FromKeras     bundle.KerasOptions{Layers: set}
//	weights.LoadFSWith   weights.LoadOptions{Layers: set}
//	serving.NewRegistry  serving.Options{Layers: set}
//	server.Main          server.Options{Layers: set}
//
// so a team's own static binary that serves a model with a custom layer
// is main plus a few lines (examples/positional/cmd/epidemic-server):
//
//	func main() {
//		set := layers.Set{"PositionalEncoding": {Build: positional.Build}}
//		os.Exit(server.Main(context.Background(), os.Args[1:], server.Options{Layers: set}))
//	}
//
// There is no package-level registry: two Sets in one process never see
// each other, and a Set adds to (or, for a class it names, replaces) the
// built-in table without changing it. Errors about an unknown class list
// the classes of the table in use, the Set's included.
//
// examples/positional is a complete custom layer (the sinusoidal
// PositionalEncoding of the epidemic-transformer fixture) with an Example
// that loads that model; docs/byo-model.md explains the rest.
package layers
