package kerasfile

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/seqcast/seqcast/hdf5"
)

// maxDeflateRatio bounds how much deflate can expand its input (the format's
// own limit is about 1032:1); a member claiming more is a lie.
const maxDeflateRatio = 1032

// defaultMaxRatio is the default Options.MaxRatio: Keras stores its members
// uncompressed; a re-zipped model of real weights compresses a few times (a
// tiny one may do more: the first MiB is always allowed).
const defaultMaxRatio = 20

func (rd *reader) readZip(r io.ReaderAt, size int64) (*Model, error) {
	rd.zipSize = uint64(size)
	z, err := zip.NewReader(r, size)
	if err != nil {
		return nil, rd.err(nil, "", "not a zip file (%v)", err)
	}
	members := map[string]*zip.File{}
	var total uint64
	for _, f := range z.File {
		total += min(f.UncompressedSize64, 1<<62)
		if total > uint64(rd.opt.MaxWeightsSize)+2*uint64(rd.opt.MaxJSONSize) {
			return nil, &LimitError{File: rd.src, Member: f.Name, Size: total, Limit: uint64(rd.opt.MaxWeightsSize) + 2*uint64(rd.opt.MaxJSONSize),
				Msg: fmt.Sprintf("the archive's members total more than %d bytes uncompressed", uint64(rd.opt.MaxWeightsSize)+2*uint64(rd.opt.MaxJSONSize))}
		}
		if _, dup := members[f.Name]; dup {
			return nil, rd.err(nil, f.Name, "the archive holds two members of that name")
		}
		members[f.Name] = f
	}
	for _, need := range []string{"config.json", "model.weights.h5"} {
		if members[need] == nil {
			return nil, rd.err(nil, "", ".keras archive has no %s", need)
		}
	}
	m := &Model{Source: rd.src, Format: FormatKeras}
	if m.Config, err = rd.member(members["config.json"], uint64(rd.opt.MaxJSONSize)); err != nil {
		return nil, err
	}
	if mf := members["metadata.json"]; mf != nil {
		mb, err := rd.member(mf, uint64(rd.opt.MaxJSONSize))
		if err != nil {
			return nil, err
		}
		var meta map[string]any
		if err := json.Unmarshal(mb, &meta); err != nil {
			return nil, rd.wrap(nil, "metadata.json", err)
		}
		m.KerasVersion, _ = meta["keras_version"].(string)
		m.Backend, _ = meta["backend"].(string)
	}
	layers, err := parseConfig(m.Config)
	if err != nil {
		return nil, rd.wrap(nil, "config.json", err)
	}
	wr, wsize, err := rd.weightsMember(r, members["model.weights.h5"])
	if err != nil {
		return nil, err
	}
	f, err := hdf5.Open(wr, wsize)
	if err != nil {
		return nil, rd.wrap(nil, "model.weights.h5", err)
	}
	if err := rd.readKerasWeights(f, layers, m); err != nil {
		return nil, err
	}
	return m, nil
}

// member reads a (small) zip member whole, within limit.
func (rd *reader) member(f *zip.File, limit uint64) ([]byte, error) {
	if err := rd.checkSizes(f, limit); err != nil {
		return nil, err
	}
	rc, err := f.Open()
	if err != nil {
		return nil, rd.wrap(nil, f.Name, err)
	}
	defer rc.Close()
	b := make([]byte, f.UncompressedSize64)
	if _, err := io.ReadFull(rc, b); err != nil {
		return nil, rd.wrap(nil, f.Name, err)
	}
	// Reading to EOF makes archive/zip check the CRC and the size.
	if n, err := rc.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		if err == nil || err == io.EOF {
			err = errors.New("member is longer than its declared size")
		}
		return nil, rd.wrap(nil, f.Name, err)
	}
	return b, nil
}

func (rd *reader) checkSizes(f *zip.File, limit uint64) error {
	if f.UncompressedSize64 > limit {
		return &LimitError{File: rd.src, Member: f.Name, Size: f.UncompressedSize64, Limit: limit}
	}
	if f.CompressedSize64 > rd.zipSize {
		return &LimitError{File: rd.src, Member: f.Name, Msg: fmt.Sprintf("declares %d compressed bytes in a %d-byte archive", f.CompressedSize64, rd.zipSize)}
	}
	switch f.Method {
	case zip.Store:
		if f.CompressedSize64 != f.UncompressedSize64 {
			return &LimitError{File: rd.src, Member: f.Name, Msg: fmt.Sprintf("stored member declares %d bytes compressed and %d uncompressed", f.CompressedSize64, f.UncompressedSize64)}
		}
	case zip.Deflate:
		if f.UncompressedSize64 > maxDeflateRatio*f.CompressedSize64+1024 {
			return &LimitError{File: rd.src, Member: f.Name, Msg: fmt.Sprintf("declares %d bytes from %d compressed, more than deflate can expand (a zip bomb)", f.UncompressedSize64, f.CompressedSize64)}
		}
		if f.UncompressedSize64 > uint64(rd.opt.MaxRatio)*f.CompressedSize64+1<<20 {
			return &LimitError{File: rd.src, Member: f.Name, Msg: fmt.Sprintf("expands %d compressed bytes to %d, more than the %d:1 allowed (Options.MaxRatio; a zip bomb?)", f.CompressedSize64, f.UncompressedSize64, rd.opt.MaxRatio)}
		}
	default:
		return rd.err(nil, f.Name, "zip compression method %d (only stored and deflated are read)", f.Method)
	}
	if f.Flags&0x1 != 0 {
		return rd.err(nil, f.Name, "encrypted zip member")
	}
	return nil
}

// weightsMember gives the HDF5 bytes of model.weights.h5: a window of the
// archive when stored (after checking its CRC), decompressed when deflated.
func (rd *reader) weightsMember(r io.ReaderAt, f *zip.File) (io.ReaderAt, int64, error) {
	if err := rd.checkSizes(f, uint64(rd.opt.MaxWeightsSize)); err != nil {
		return nil, 0, err
	}
	if f.Method == zip.Deflate {
		b, err := rd.member(f, uint64(rd.opt.MaxWeightsSize))
		if err != nil {
			return nil, 0, err
		}
		return bytes.NewReader(b), int64(len(b)), nil
	}
	off, err := f.DataOffset()
	if err != nil {
		return nil, 0, rd.wrap(nil, f.Name, err)
	}
	sec := io.NewSectionReader(r, off, int64(f.UncompressedSize64))
	h := crc32.NewIEEE()
	n, err := io.Copy(h, sec)
	if err != nil {
		return nil, 0, rd.wrap(nil, f.Name, err)
	}
	if uint64(n) != f.UncompressedSize64 {
		return nil, 0, rd.err(nil, f.Name, "member is truncated: %d of %d bytes", n, f.UncompressedSize64)
	}
	if f.CRC32 != 0 && h.Sum32() != f.CRC32 {
		return nil, 0, rd.err(nil, f.Name, "CRC-32 mismatch (corrupt archive)")
	}
	return sec, n, nil
}

// classKey orders "x", "x_1", "x_2", "x_10" by numeric suffix, then by key.
type classKey struct {
	num string // the suffix digits without leading zeros ("" for none)
	key string
}

func numLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func (rd *reader) readKerasWeights(f *hdf5.File, layers []layer, m *Model) error {
	top := f.Root()
	rootName := "layers"
	if !top.Has("layers") {
		if !top.Has("_layer_checkpoint_dependencies") {
			return rd.err(nil, "model.weights.h5", "has neither layers/ nor _layer_checkpoint_dependencies/ (has %q)", top.Children())
		}
		rootName = "_layer_checkpoint_dependencies"
		m.Format = FormatKeras213
	}
	root, err := top.Group(rootName)
	if err != nil {
		return rd.wrap(nil, rootName, err)
	}
	keys := root.Children()
	// Keys are snake_case(class) + a per-class counter; the n-th layer of a
	// class maps to the n-th key of that class sorted by numeric suffix.
	snake := keyCase(m.Format) // keys.go: Keras 2.13-2.15 snake_case differently
	var classes []string
	for _, l := range layers {
		s := snake(l.class)
		if !slices.Contains(classes, s) {
			classes = append(classes, s)
		}
	}
	sorted := append([]string(nil), classes...)
	sort.SliceStable(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	byClass := map[string][]string{}
	claimed := map[string]bool{}
	for _, s := range sorted {
		pat := regexp.MustCompile("^" + regexp.QuoteMeta(s) + `(?:_([0-9]+))?$`)
		var ks []classKey
		for _, k := range keys {
			if claimed[k] {
				continue
			}
			if mm := pat.FindStringSubmatch(k); mm != nil {
				num := strings.TrimLeft(mm[1], "0")
				ks = append(ks, classKey{num, k})
			}
		}
		sort.Slice(ks, func(i, j int) bool {
			if ks[i].num != ks[j].num {
				return numLess(ks[i].num, ks[j].num)
			}
			return ks[i].key < ks[j].key
		})
		for _, ck := range ks {
			byClass[s] = append(byClass[s], ck.key)
			claimed[ck.key] = true
		}
	}
	counters := map[string]int{}
	used := map[string]bool{}
	for i := range layers {
		l := &layers[i]
		s := snake(l.class)
		idx := counters[s]
		counters[s]++
		key := ""
		if idx < len(byClass[s]) {
			key = byClass[s][idx]
		} else if root.Has(l.name) && !claimed[l.name] {
			key = l.name // a custom-named layer keyed by its name
		}
		want, known, class, err := rd.expected(l)
		if err != nil {
			return err
		}
		if key == "" {
			if !known {
				return rd.unsupported(l, class, "")
			}
			if len(want) > 0 {
				return rd.err(l, rootName, "needs %d weight arrays but %s/ has no group for it (keys of class %q: %q)", len(want), rootName, s, byClass[s])
			}
			continue
		}
		used[key] = true
		path := rootName + "/" + key
		g, err := root.Group(key)
		if err != nil {
			return rd.wrap(l, path, err)
		}
		if g.Has("vars") {
			v, err := g.Group("vars")
			if err != nil {
				return rd.wrap(l, path+"/vars", err)
			}
			stored, ok, err := rd.attrString(v, "name", path+"/vars")
			if err != nil {
				return err
			}
			if ok && stored != l.name {
				return rd.err(l, path, "maps to %s by class order, but that group is named %q", path, stored)
			}
		}
		if !known {
			left, err := rd.datasetsUnder(g, path, nil)
			if err != nil {
				return err
			}
			if len(left) > 0 {
				return rd.unsupported(l, class, path)
			}
			continue
		}
		consumed := map[string]bool{}
		ws, err := rd.readKerasLayer(g, path, l, l.obj, consumed, 0)
		if err != nil {
			return err
		}
		if len(ws) != len(want) {
			return rd.err(l, path, "config implies %d weight arrays, file has %d", len(want), len(ws))
		}
		left, err := rd.datasetsUnder(g, path, consumed)
		if err != nil {
			return err
		}
		if len(left) > 0 {
			return rd.err(l, path, "weights not mapped to the layer's %d arrays: %q", len(want), left)
		}
		m.Weights = append(m.Weights, ws...)
	}
	for _, k := range keys {
		if used[k] {
			continue
		}
		path := rootName + "/" + k
		kind, err := root.Kind(k)
		if err != nil {
			return rd.wrap(nil, path, err)
		}
		var left []string
		if kind == hdf5.KindDataset {
			left = []string{path}
		} else {
			g, err := root.Group(k)
			if err != nil {
				return rd.wrap(nil, path, err)
			}
			if left, err = rd.datasetsUnder(g, path, nil); err != nil {
				return err
			}
		}
		if len(left) > 0 {
			return rd.err(nil, path, "weights not mapped to any config layer (no layer of the config is stored under %q): %q", k, left)
		}
	}
	return nil
}

// datasetsUnder lists the datasets below g not in consumed, skipping
// seed_generator state.
func (rd *reader) datasetsUnder(g *hdf5.Group, path string, consumed map[string]bool) ([]string, error) {
	var out []string
	err := g.Walk(func(rel string, k hdf5.Kind) error {
		p := path + "/" + rel
		if k == hdf5.KindDataset && !consumed[p] && !strings.Contains(p, "seed_generator") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, rd.wrap(nil, path, err)
	}
	return out, nil
}

// vars reads <g>/vars/0..n-1 in numeric order.
func (rd *reader) vars(l *layer, g *hdf5.Group, path string, consumed map[string]bool) ([]Weight, error) {
	if !g.Has("vars") {
		return nil, nil
	}
	vp := path + "/vars"
	v, err := g.Group("vars")
	if err != nil {
		return nil, rd.wrap(l, vp, err)
	}
	names := v.Children()
	idx := make([]int, 0, len(names))
	for _, k := range names {
		n, err := strconv.Atoi(k)
		if err != nil || n < 0 || strconv.Itoa(n) != k {
			return nil, rd.err(l, vp, "unexpected entry %q in vars", k)
		}
		idx = append(idx, n)
	}
	sort.Ints(idx)
	for i, n := range idx {
		if n != i {
			return nil, rd.err(l, vp, "vars are numbered %v, not 0..%d", idx, len(idx)-1)
		}
	}
	out := make([]Weight, 0, len(idx))
	for _, n := range idx {
		k := strconv.Itoa(n)
		p := vp + "/" + k
		w, err := rd.readWeight(l, v, k, p, p)
		if err != nil {
			return nil, err
		}
		consumed[p] = true
		out = append(out, w)
	}
	return out, nil
}

// readKerasLayer reads one layer's variables as its class nests them; obj
// is the (possibly inner) layer object whose class decides.
func (rd *reader) readKerasLayer(g *hdf5.Group, path string, l *layer, obj map[string]any, consumed map[string]bool, depth int) ([]Weight, error) {
	if depth > 8 {
		return nil, rd.err(l, path, "layer wrappers nested more than 8 deep")
	}
	cls, _ := obj["class_name"].(string)
	spec := rd.layers[cls]
	c := layerConfig(obj)
	out, err := rd.vars(l, g, path, consumed)
	if err != nil {
		return nil, err
	}
	sub := func(name string, inner map[string]any) error {
		if !g.Has(name) {
			return rd.err(l, path, "%s has no %s group", cls, name)
		}
		sg, err := g.Group(name)
		if err != nil {
			return rd.wrap(l, path+"/"+name, err)
		}
		ws, err := rd.readKerasLayer(sg, path+"/"+name, l, inner, consumed, depth+1)
		if err != nil {
			return err
		}
		out = append(out, ws...)
		return nil
	}
	switch spec.Nesting {
	case NestBidirectional:
		fwd, _ := c["layer"].(map[string]any)
		bwd := fwd
		if b, ok := c["backward_layer"].(map[string]any); ok && len(b) > 0 {
			bwd = b
		}
		if err := sub("forward_layer", fwd); err != nil {
			return nil, err
		}
		if err := sub("backward_layer", bwd); err != nil {
			return nil, err
		}
	case NestWrapper:
		inner, _ := c["layer"].(map[string]any)
		if err := sub("layer", inner); err != nil {
			return nil, err
		}
	case NestSublayers:
		for _, name := range spec.Sublayers {
			if !g.Has(name) && g.Has("_"+name) {
				name = "_" + name
			}
			if !g.Has(name) {
				return nil, rd.err(l, path, "%s has no %s group", cls, name)
			}
			sg, err := g.Group(name)
			if err != nil {
				return nil, rd.wrap(l, path+"/"+name, err)
			}
			ws, err := rd.vars(l, sg, path+"/"+name, consumed)
			if err != nil {
				return nil, err
			}
			out = append(out, ws...)
		}
	case NestNamed:
		if err := rd.readNamed(g, path, l, obj, consumed, &out); err != nil {
			return nil, err
		}
	case NestRNN:
		if g.Has("cell") {
			cg, err := g.Group("cell")
			if err != nil {
				return nil, rd.wrap(l, path+"/cell", err)
			}
			ws, err := rd.vars(l, cg, path+"/cell", consumed)
			if err != nil {
				return nil, err
			}
			out = append(out, ws...)
		}
	}
	return out, nil
}
