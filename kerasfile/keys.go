package kerasfile

import (
	"regexp"
	"strings"
)

var snakeKeras2Re = regexp.MustCompile(`(.)([A-Z][a-z0-9]+)`)

// snakeCaseKeras2 is Keras 2's generic_utils.to_snake_case, the key that
// Keras 2.13-2.15's saving_lib (_save_container_state) gives a layer class
// in a .keras archive: a capital followed by digits starts a word too, so
// ConvLSTM2D is conv_lst_m2d there and conv_lstm2d in Keras 3 (SnakeCase).
// The other supported classes get the same key from both.
func snakeCaseKeras2(name string) string {
	name = snakeKeras2Re.ReplaceAllString(name, "${1}_${2}")
	name = strings.ToLower(snakeRe2.ReplaceAllString(name, "${1}_${2}"))
	if strings.HasPrefix(name, "_") {
		return name[min(2, len(name)):]
	}
	return name
}

// keyCase is how a .keras archive of format f keys a layer class.
func keyCase(f Format) func(string) string {
	if f == FormatKeras213 {
		return snakeCaseKeras2
	}
	return SnakeCase
}
