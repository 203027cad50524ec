package kerasconfig

import (
	"fmt"
	"strconv"
	"strings"
)

// Dialect names the flavour of Keras JSON a config was written in.
type Dialect string

const (
	// DialectKeras2 is Keras <= 2.12: layers are {class_name, config}.
	DialectKeras2 Dialect = "keras2"
	// DialectKeras213 is Keras 2.13-2.15: layers also carry module,
	// registered_name and build_config; InputLayer has batch_input_shape.
	DialectKeras213 Dialect = "keras2.13"
	// DialectKeras3 is Keras 3: InputLayer has batch_shape, dtype may be a
	// DTypePolicy object, Functional inbound_nodes are {args, kwargs}.
	DialectKeras3 Dialect = "keras3"
)

// semantics decides which Keras version's semantics apply: the version the
// caller gives (a bundle's manifest), else the JSON's own keras_version,
// else the dialect. It returns the version declared ("" when neither gives
// one) and whether Keras 3 semantics apply. Versions that contradict each
// other, or the dialect, are an error.
func semantics(given, inJSON string, d Dialect) (version string, keras3 bool, err error) {
	if given != "" && inJSON != "" {
		a, errA := isKeras3(given)
		b, errB := isKeras3(inJSON)
		if errA == nil && errB == nil && a != b {
			return "", false, fmt.Errorf("keras_version %q given for the bundle contradicts keras_version %q in the JSON", given, inJSON)
		}
	}
	version = given
	if version == "" {
		version = inJSON
	}
	if version == "" {
		return "", d == DialectKeras3, nil
	}
	if keras3, err = isKeras3(version); err != nil {
		return version, false, err
	}
	if keras3 != (d == DialectKeras3) && !strings.HasPrefix(version, "tfjs") {
		return version, false, fmt.Errorf("keras_version %q contradicts the JSON, which is in the %s dialect", version, d)
	}
	return version, keras3, nil
}

// isKeras3 reads the major version of a keras_version string. TF.js's
// "tfjs-layers x.y.z" follows Keras 2 semantics.
func isKeras3(v string) (bool, error) {
	if strings.HasPrefix(v, "tfjs") {
		return false, nil
	}
	major, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	n, err := strconv.Atoi(major)
	if err != nil || n < 1 {
		return false, fmt.Errorf("keras_version %q is not a version number", v)
	}
	return n >= 3, nil
}

// detectDialect looks for the marks only Keras 3 writes, then for the
// module keys Keras 2.13+ adds.
func detectDialect(top map[string]any) Dialect {
	keras3, module := false, false
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			switch stringOf(v["class_name"]) {
			case "DTypePolicy", "FloatDTypePolicy", "__keras_tensor__":
				keras3 = true
			}
			if _, ok := v["batch_shape"]; ok {
				keras3 = true
			}
			if _, ok := v["module"]; ok {
				module = true
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(top)
	switch {
	case keras3:
		return DialectKeras3
	case module:
		return DialectKeras213
	}
	return DialectKeras2
}
