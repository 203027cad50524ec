package hdf5

import (
	"bytes"
	"fmt"
	"strings"
)

// Group is an old-style (symbol-table) HDF5 group.
type Group struct {
	object
	idx *groupIndex
}

type groupIndex struct {
	names []string          // in B-tree (byte-sorted) order
	addrs map[string]uint64 // object header address of each child
}

// Kind says whether a child is a group or a dataset.
type Kind int

const (
	KindGroup Kind = iota + 1
	KindDataset
)

func (k Kind) String() string {
	switch k {
	case KindGroup:
		return "group"
	case KindDataset:
		return "dataset"
	}
	return "unknown"
}

func (f *File) openGroup(addr uint64, path string) (*Group, error) {
	h, err := f.header(addr, path)
	if err != nil {
		return nil, err
	}
	m := h.first(msgSymbolTable)
	if m == nil {
		if h.first(msgLayout) != nil {
			return nil, &TypeError{Path: path, Want: "a group", Have: "a dataset"}
		}
		return nil, &UnsupportedError{Path: path, Feature: "object that is neither a symbol-table group nor a dataset"}
	}
	f.mu.Lock()
	idx, ok := f.groups[addr]
	f.mu.Unlock()
	if !ok {
		c := &cursor{f: f, b: m.data}
		btree, heap := c.off(), c.off()
		if c.bad {
			return nil, &FormatError{Path: path, Offset: -1, What: "truncated symbol table message"}
		}
		idx, err = f.readGroupIndex(btree, heap, path)
		if err != nil {
			return nil, err
		}
		f.mu.Lock()
		f.groups[addr] = idx
		f.mu.Unlock()
	}
	return &Group{object: object{f: f, path: path, hdr: h}, idx: idx}, nil
}

func (f *File) readGroupIndex(btree, heapAddr uint64, path string) (*groupIndex, error) {
	heap, err := f.localHeap(heapAddr, path)
	if err != nil {
		return nil, err
	}
	idx := &groupIndex{addrs: map[string]uint64{}}
	seen := map[uint64]bool{}
	var walk func(addr uint64, level int) error
	walk = func(addr uint64, level int) error {
		if seen[addr] {
			return &FormatError{Path: path, Offset: int64(min(addr, 1<<62)), What: "group B-tree nodes form a cycle"}
		}
		seen[addr] = true
		hdrLen := uint64(8 + 2*f.offSize)
		pre, err := f.readMeta(addr, hdrLen, "group B-tree node")
		if err != nil {
			return withPath(err, path)
		}
		if string(pre[:4]) != "TREE" {
			if string(pre[:4]) == "BTHD" {
				return &UnsupportedError{Path: path, Feature: "version-2 B-tree (libver='latest')"}
			}
			return &FormatError{Path: path, Offset: int64(addr), What: "group B-tree node has no TREE signature"}
		}
		if pre[4] != 0 {
			return &FormatError{Path: path, Offset: int64(addr), What: fmt.Sprintf("group B-tree node has node type %d, not 0 (group)", pre[4])}
		}
		nodeLevel := int(pre[5])
		if level >= 0 && nodeLevel != level {
			return &FormatError{Path: path, Offset: int64(addr), What: fmt.Sprintf("group B-tree node at level %d, its parent expects %d", nodeLevel, level)}
		}
		if nodeLevel >= maxDepth {
			return &FormatError{Path: path, Offset: int64(addr), What: fmt.Sprintf("group B-tree is %d levels deep (limit %d)", nodeLevel, maxDepth)}
		}
		used := uint64(pre[6]) | uint64(pre[7])<<8
		body, err := f.readMeta(addr+hdrLen, used*uint64(f.lenSize+f.offSize)+uint64(f.lenSize), "group B-tree node entries")
		if err != nil {
			return withPath(err, path)
		}
		c := &cursor{f: f, b: body}
		for i := uint64(0); i < used; i++ {
			c.length() // key: heap offset of the largest name in the child
			child := c.off()
			if c.bad {
				return &FormatError{Path: path, Offset: int64(addr), What: "truncated group B-tree node"}
			}
			if nodeLevel == 0 {
				if err := f.readSymbolNode(child, heap, idx, seen, path); err != nil {
					return err
				}
			} else if err := walk(child, nodeLevel-1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(btree, -1); err != nil {
		return nil, err
	}
	return idx, nil
}

func (f *File) readSymbolNode(addr uint64, heap []byte, idx *groupIndex, seen map[uint64]bool, path string) error {
	if seen[addr] {
		return &FormatError{Path: path, Offset: int64(min(addr, 1<<62)), What: "symbol table node referenced twice (cycle)"}
	}
	seen[addr] = true
	pre, err := f.readMeta(addr, 8, "symbol table node")
	if err != nil {
		return withPath(err, path)
	}
	if string(pre[:4]) != "SNOD" {
		return &FormatError{Path: path, Offset: int64(addr), What: "symbol table node has no SNOD signature"}
	}
	if pre[4] != 1 {
		return &UnsupportedError{Path: path, Feature: fmt.Sprintf("symbol table node version %d", pre[4])}
	}
	n := uint64(pre[6]) | uint64(pre[7])<<8
	body, err := f.readMeta(addr+8, n*uint64(f.entrySize()), "symbol table entries")
	if err != nil {
		return withPath(err, path)
	}
	c := &cursor{f: f, b: body}
	for i := uint64(0); i < n; i++ {
		e := c.entry()
		if c.bad {
			return &FormatError{Path: path, Offset: int64(addr), What: "truncated symbol table node"}
		}
		name, err := heapString(heap, e.nameOff)
		if err != nil {
			return withPath(err, path)
		}
		// Names at many offsets of one large heap could otherwise cost
		// its size squared.
		if err := f.charge(int64(len(name))+1, "link names"); err != nil {
			return withPath(err, path)
		}
		if name == "" || strings.Contains(name, "/") {
			return &FormatError{Path: path, Offset: int64(addr), What: fmt.Sprintf("link name %q is empty or holds a slash", name)}
		}
		if _, dup := idx.addrs[name]; dup {
			return &FormatError{Path: path, Offset: int64(addr), What: fmt.Sprintf("link name %q appears twice", name)}
		}
		idx.addrs[name] = e.header
		idx.names = append(idx.names, name)
	}
	return nil
}

// localHeap returns the data segment of the local heap at addr.
func (f *File) localHeap(addr uint64, path string) ([]byte, error) {
	pre, err := f.readMeta(addr, uint64(8+2*f.lenSize+f.offSize), "local heap")
	if err != nil {
		return nil, withPath(err, path)
	}
	if string(pre[:4]) != "HEAP" {
		return nil, &FormatError{Path: path, Offset: int64(addr), What: "local heap has no HEAP signature"}
	}
	if pre[4] != 0 {
		return nil, &UnsupportedError{Path: path, Feature: fmt.Sprintf("local heap version %d", pre[4])}
	}
	c := &cursor{f: f, b: pre[8:]}
	size := c.length()
	c.length() // free list
	data := c.off()
	seg, err := f.readMeta(data, size, "local heap data segment")
	if err != nil {
		return nil, withPath(err, path)
	}
	return seg, nil
}

func heapString(heap []byte, off uint64) (string, error) {
	if off >= uint64(len(heap)) {
		return "", &FormatError{Offset: -1, What: fmt.Sprintf("link name offset %d is past the end of the %d-byte local heap", off, len(heap))}
	}
	s := heap[off:]
	end := bytes.IndexByte(s, 0)
	if end < 0 {
		return "", &FormatError{Offset: -1, What: fmt.Sprintf("link name at local heap offset %d is not NUL-terminated", off)}
	}
	return string(s[:end]), nil
}

// Children lists the names of the group's members in stored order (HDF5
// keeps them sorted by bytes, as h5py's keys() returns them).
func (g *Group) Children() []string {
	return append([]string(nil), g.idx.names...)
}

// Has reports whether the group has a direct member called name.
func (g *Group) Has(name string) bool {
	_, ok := g.idx.addrs[name]
	return ok
}

// resolve walks a relative path ("a/b/c") to the object header address of
// its last component and the group that holds it.
func (g *Group) resolve(name string) (uint64, string, error) {
	parts := strings.Split(strings.Trim(name, "/"), "/")
	if name == "" {
		return 0, "", &NotFoundError{Path: g.path, Name: name, Kind: "link"}
	}
	if len(parts) > maxDepth {
		return 0, "", &UnsupportedError{Path: g.path, Feature: fmt.Sprintf("a path of %d groups (the limit is %d)", len(parts), maxDepth)}
	}
	cur := g
	for i, p := range parts {
		addr, ok := cur.idx.addrs[p]
		if !ok {
			return 0, "", &NotFoundError{Path: cur.path, Name: p, Kind: "link"}
		}
		path := joinPath(cur.path, p)
		if i == len(parts)-1 {
			return addr, path, nil
		}
		next, err := g.f.openGroup(addr, path)
		if err != nil {
			return 0, "", err
		}
		cur = next
	}
	panic("unreachable")
}

// Kind says whether the member at the relative path name is a group or a
// dataset.
func (g *Group) Kind(name string) (Kind, error) {
	addr, path, err := g.resolve(name)
	if err != nil {
		return 0, err
	}
	h, err := g.f.header(addr, path)
	if err != nil {
		return 0, err
	}
	switch {
	case h.first(msgSymbolTable) != nil:
		return KindGroup, nil
	case h.first(msgLayout) != nil:
		return KindDataset, nil
	}
	return 0, &UnsupportedError{Path: path, Feature: "object that is neither a symbol-table group nor a dataset"}
}

// Group opens the group at the relative path name ("a" or "a/b").
func (g *Group) Group(name string) (*Group, error) {
	addr, path, err := g.resolve(name)
	if err != nil {
		return nil, err
	}
	return g.f.openGroup(addr, path)
}

// Dataset opens the dataset at the relative path name.
func (g *Group) Dataset(name string) (*Dataset, error) {
	addr, path, err := g.resolve(name)
	if err != nil {
		return nil, err
	}
	return g.f.openDataset(addr, path)
}

// Walk calls fn for every object below g (not g itself), depth first in
// stored order, with its path relative to g. A group reached twice (HDF5
// allows hard links to ancestors) is visited once; nesting is bounded.
// If fn returns an error, Walk stops and returns it.
func (g *Group) Walk(fn func(rel string, kind Kind) error) error {
	seen := map[uint64]bool{g.hdr.addr: true}
	var walk func(grp *Group, prefix string, depth int) error
	walk = func(grp *Group, prefix string, depth int) error {
		if depth >= maxDepth {
			return &UnsupportedError{Path: grp.path, Feature: fmt.Sprintf("groups nested more than %d deep", maxDepth)}
		}
		for _, name := range grp.idx.names {
			rel := prefix + name
			kind, err := grp.Kind(name)
			if err != nil {
				return err
			}
			if err := fn(rel, kind); err != nil {
				return err
			}
			if kind != KindGroup {
				continue
			}
			addr := grp.idx.addrs[name]
			if seen[addr] {
				continue
			}
			seen[addr] = true
			sub, err := grp.Group(name)
			if err != nil {
				return err
			}
			if err := walk(sub, rel+"/", depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(g, "", 0)
}
