package kerasfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

var modelClasses = map[string]bool{"Sequential": true, "Functional": true, "Model": true}

// layer is one entry of the model config's layer list.
type layer struct {
	obj   map[string]any
	name  string
	class string
}

// parseConfig decodes a model config and returns its layers in
// model.layers order.
func parseConfig(data []byte) ([]layer, error) {
	var cfg any
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("model config is not JSON: %w", err)
	}
	top, ok := cfg.(map[string]any)
	if !ok {
		return nil, errors.New("model config is not a JSON object")
	}
	cls, _ := top["class_name"].(string)
	if !modelClasses[cls] {
		return nil, fmt.Errorf("model config: top-level class %q is not Sequential or a functional Model", cls)
	}
	var list []any
	switch inner := top["config"].(type) {
	case []any: // Keras <= 2.2.2 Sequential
		list = inner
	case map[string]any:
		l, ok := inner["layers"].([]any)
		if !ok {
			return nil, errors.New("model config: no layer list")
		}
		list = l
	default:
		return nil, errors.New("model config: no layer list")
	}
	out := make([]layer, 0, len(list))
	for i, v := range list {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("model config: layer %d is not an object", i)
		}
		l := layer{obj: m, name: layerName(m)}
		l.class, _ = m["class_name"].(string)
		if modelClasses[l.class] {
			return nil, fmt.Errorf("layer %q: nested models (%s) are not supported; flatten the model first", l.name, l.class)
		}
		out = append(out, l)
	}
	return out, nil
}

// layerName is layer["name"] or layer["config"]["name"].
func layerName(m map[string]any) string {
	if s, ok := m["name"].(string); ok && s != "" {
		return s
	}
	s, _ := layerConfig(m)["name"].(string)
	return s
}

var (
	snakeRe1 = regexp.MustCompile(`(.)([A-Z][a-z]+)`)
	snakeRe2 = regexp.MustCompile(`([a-z])([A-Z])`)
)

// SnakeCase is Keras's to_snake_case: the group key a .keras archive gives
// the first layer of a class ("PReLU" -> "p_re_lu").
func SnakeCase(name string) string {
	name = strings.Map(func(r rune) rune {
		if r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, name)
	name = snakeRe1.ReplaceAllString(name, "${1}_${2}")
	name = snakeRe2.ReplaceAllString(name, "${1}_${2}")
	return strings.ToLower(name)
}
