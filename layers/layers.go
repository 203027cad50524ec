package layers

import (
	"maps"
	"slices"
	"strings"

	"github.com/seqcast/seqcast/kerasconfig"
	"github.com/seqcast/seqcast/kerasfile"
)

// Layer is one layer class a program supplies.
type Layer struct {
	// Build makes the layer from its config. It reads the options through
	// the LayerConfig's accessors (c.Int("d_model", kerasconfig.Required),
	// ...), refusing bad values with c.Invalid or c.Unsupported, and returns
	// an nn.Layer that is not built yet: the model calls its Build with the
	// input shapes, then binds the arrays its Weights declares.
	Build kerasconfig.Builder
	// Weights names the layer's weights in get_weights() order, as its
	// Python build() creates them ("kernel", "bias"); nil for a layer
	// without weights. A .h5 file's weight names are checked against them;
	// a .keras file stores the layer's variables, in this order, under
	// layers/<snake_case(class)>/vars.
	Weights []string
	// Spec, when not nil, describes how the file stores the weights in full
	// (names that depend on the config, nested sub-layers: see
	// kerasfile.LayerSpec) and Weights is unused.
	Spec *kerasfile.LayerSpec
}

// Set maps a Keras class name to the Layer that builds it. For a Keras 3
// custom object the key may be its registered_name ("Custom>Name" as
// keras.saving.register_keras_serializable writes it) or, when the file
// stores none different from the class, the class name.
type Set map[string]Layer

// Builders returns a new kerasconfig table: the built-in classes
// (kerasconfig.Default) and the Set's.
func (s Set) Builders() kerasconfig.Builders {
	b := kerasconfig.Default()
	for name, l := range s {
		if l.Build != nil {
			b[name] = l.Build
		}
	}
	return b
}

// Table returns a new kerasfile table: the built-in classes
// (kerasfile.DefaultLayers) and how the Set's store their weights, keyed
// by class name (a registered name's part after its last '>').
func (s Set) Table() kerasfile.Table {
	t := kerasfile.DefaultLayers()
	for name, l := range s {
		class := name[strings.LastIndexByte(name, '>')+1:]
		switch {
		case l.Spec != nil:
			t[class] = *l.Spec
		case len(l.Weights) > 0:
			names := append([]string(nil), l.Weights...)
			t[class] = kerasfile.LayerSpec{Weights: func(map[string]any, kerasfile.Table) ([]string, error) { return names, nil }}
		default:
			t[class] = kerasfile.LayerSpec{}
		}
	}
	return t
}

// Classes lists the classes the Set adds, sorted.
func (s Set) Classes() []string {
	return slices.Sorted(maps.Keys(s))
}
