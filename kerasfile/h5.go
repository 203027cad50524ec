package kerasfile

import (
	"slices"
	"strings"

	"github.com/seqcast/seqcast/hdf5"
)

type attrHolder interface {
	HasAttr(string) bool
	Attr(string) (*hdf5.Attribute, error)
}

// attrString reads a scalar string attribute; ok is false when it is absent.
func (rd *reader) attrString(o attrHolder, key, where string) (string, bool, error) {
	if !o.HasAttr(key) {
		return "", false, nil
	}
	a, err := o.Attr(key)
	if err != nil {
		return "", false, rd.wrap(nil, where, err)
	}
	s, err := a.String()
	if err != nil {
		return "", false, rd.wrap(nil, where, err)
	}
	if !validName(s) {
		return "", false, rd.err(nil, where, "attribute %s is not UTF-8", key)
	}
	return s, true, nil
}

// nameList reads layer_names or weight_names: fixed- or variable-length
// strings, or an empty float64 array (Keras 2 writes [] that way).
func (rd *reader) nameList(o attrHolder, key, where string) ([]string, error) {
	if !o.HasAttr(key) {
		return nil, rd.err(nil, where, "no %s attribute", key)
	}
	a, err := o.Attr(key)
	if err != nil {
		return nil, rd.wrap(nil, where, err)
	}
	if !a.IsString() {
		if a.Len() == 0 {
			return nil, nil
		}
		return nil, rd.err(nil, where, "%s attribute has dtype %s", key, a.DType)
	}
	names, err := a.Strings()
	if err != nil {
		return nil, rd.wrap(nil, where, err)
	}
	for _, n := range names {
		if !validName(n) {
			return nil, rd.err(nil, where, "%s holds a name that is not UTF-8", key)
		}
	}
	return names, nil
}

func base(weightName string) string {
	n := weightName[strings.LastIndex(weightName, "/")+1:]
	return strings.TrimSuffix(n, ":0")
}

func (rd *reader) readH5(f *hdf5.File) (*Model, error) {
	root := f.Root()
	if !root.Has("model_weights") && (root.Has("layers") || root.Has("_layer_checkpoint_dependencies")) {
		return nil, rd.err(nil, "", "this is a bare model.weights.h5 without the model config; export the .keras file instead")
	}
	cfg, ok, err := rd.attrString(root, "model_config", "/")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, rd.err(nil, "", "no model_config attribute; weights-only .h5 files (save_weights) carry no architecture, save the whole model instead")
	}
	m := &Model{Source: rd.src, Format: FormatH5, Config: []byte(cfg)}
	if m.KerasVersion, _, err = rd.attrString(root, "keras_version", "/"); err != nil {
		return nil, err
	}
	if m.Backend, _, err = rd.attrString(root, "backend", "/"); err != nil {
		return nil, err
	}
	layers, err := parseConfig(m.Config)
	if err != nil {
		return nil, rd.wrap(nil, "model_config", err)
	}
	if !root.Has("model_weights") {
		return nil, rd.err(nil, "", "no model_weights group")
	}
	mw, err := root.Group("model_weights")
	if err != nil {
		return nil, rd.wrap(nil, "model_weights", err)
	}
	layerNames, err := rd.nameList(mw, "layer_names", "model_weights")
	if err != nil {
		return nil, err
	}
	byName := map[string]*layer{}
	for i := range layers {
		l := &layers[i]
		if _, dup := byName[l.name]; dup {
			return nil, rd.err(l, "", "two layers named %q in the config", l.name)
		}
		byName[l.name] = l
	}
	var seen []string
	seenSet := map[string]bool{}
	for _, ln := range layerNames {
		where := "model_weights/" + ln
		kind, err := mw.Kind(ln)
		if err != nil {
			return nil, rd.err(&layer{name: ln}, where, "listed in layer_names but has no group: %v", err)
		}
		if kind != hdf5.KindGroup {
			return nil, rd.err(&layer{name: ln}, where, "is a dataset, not a group")
		}
		g, err := mw.Group(ln)
		if err != nil {
			return nil, rd.wrap(&layer{name: ln}, where, err)
		}
		names, err := rd.nameList(g, "weight_names", where)
		if err != nil {
			return nil, err
		}
		l := byName[ln]
		if l == nil {
			if len(names) > 0 {
				return nil, rd.err(&layer{name: ln}, where, "has %d weights but is not in the model config", len(names))
			}
			continue
		}
		var ws []Weight
		for _, wn := range names {
			wp := where + "/" + wn
			k, err := g.Kind(wn)
			if err != nil {
				return nil, rd.err(l, wp, "weight %q has no dataset", wn)
			}
			if k != hdf5.KindDataset {
				return nil, rd.err(l, wp, "is not a dataset")
			}
			w, err := rd.readWeight(l, g, wn, wn, wp)
			if err != nil {
				return nil, err
			}
			ws = append(ws, w)
		}
		want, known, class, err := rd.expected(l)
		if err != nil {
			return nil, err
		}
		if !known {
			if len(ws) > 0 {
				return nil, rd.unsupported(l, class, where)
			}
		} else {
			if len(ws) != len(want) {
				return nil, rd.err(l, where, "config implies %d weight arrays, file has %d", len(want), len(ws))
			}
			if err := rd.checkNames(l, names, want, where); err != nil {
				return nil, err
			}
		}
		if seenSet[ln] {
			return nil, rd.err(l, "model_weights", "layer_names lists the layer twice")
		}
		seenSet[ln] = true
		seen = append(seen, ln)
		m.Weights = append(m.Weights, ws...)
	}
	var order []string
	for i := range layers {
		l := &layers[i]
		if seenSet[l.name] {
			order = append(order, l.name)
			continue
		}
		want, known, _, err := rd.expected(l)
		if err != nil {
			return nil, err
		}
		if known && len(want) > 0 {
			return nil, rd.err(l, "model_weights", "needs %d weight arrays but model_weights/layer_names does not list it", len(want))
		}
	}
	if !slices.Equal(order, seen) {
		return nil, rd.err(nil, "model_weights", "layer_names order %q differs from the config's layer order %q", seen, order)
	}
	return m, nil
}

// checkNames checks weight base names against the class's order (.h5 only).
func (rd *reader) checkNames(l *layer, names, want []string, where string) error {
	depthwise := strings.HasPrefix(l.class, "Depthwise")
	for i, n := range names {
		got := base(n)
		if got == "depthwise_kernel" && depthwise {
			got = "kernel"
		}
		if got != base(want[i]) {
			w := make([]string, len(want))
			for j := range want {
				w[j] = base(want[j])
			}
			return rd.err(l, where, "weights are %q, expected %q in this order", names, w)
		}
	}
	if l.class == "Bidirectional" {
		half := 0
		for _, w := range want {
			if strings.HasPrefix(w, "forward/") {
				half++
			}
		}
		for i, n := range names {
			side := "forward"
			if i >= half {
				side = "backward"
			}
			if !strings.Contains(n, side) {
				return rd.err(l, where, "weight %d %q should belong to the %s layer", i, n, side)
			}
		}
	}
	return nil
}
