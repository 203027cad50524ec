package hdf5

import (
	"fmt"
	"sort"
)

// Header message types used here (HDF5 spec IV.A.2).
const (
	msgNIL          = 0x0000
	msgDataspace    = 0x0001
	msgLinkInfo     = 0x0002
	msgDatatype     = 0x0003
	msgFillOld      = 0x0004
	msgFill         = 0x0005
	msgLink         = 0x0006
	msgExternal     = 0x0007
	msgLayout       = 0x0008
	msgBogus        = 0x0009
	msgGroupInfo    = 0x000A
	msgFilters      = 0x000B
	msgAttribute    = 0x000C
	msgComment      = 0x000D
	msgModTimeOld   = 0x000E
	msgSharedTable  = 0x000F
	msgContinuation = 0x0010
	msgSymbolTable  = 0x0011
	msgModTime      = 0x0012
	msgBTreeK       = 0x0013
	msgDriverInfo   = 0x0014
	msgAttrInfo     = 0x0015
	msgRefCount     = 0x0016
)

var msgNames = map[uint16]string{
	msgLinkInfo:    "link info message (new-style group, libver='latest')",
	msgLink:        "link message (new-style group, libver='latest')",
	msgGroupInfo:   "group info message (new-style group, libver='latest')",
	msgAttrInfo:    "attribute info message (dense attribute storage)",
	msgExternal:    "external data files",
	msgSharedTable: "shared object header message table",
}

type message struct {
	typ   uint16
	flags uint8
	data  []byte
}

type objectHeader struct {
	addr uint64
	msgs []message
}

func (h *objectHeader) first(typ uint16) *message {
	for i := range h.msgs {
		if h.msgs[i].typ == typ {
			return &h.msgs[i]
		}
	}
	return nil
}

// header reads and caches the version-1 object header at addr, following
// its continuation blocks.
func (f *File) header(addr uint64, path string) (*objectHeader, error) {
	f.mu.Lock()
	h, ok := f.headers[addr]
	f.mu.Unlock()
	if ok {
		return h, nil
	}
	pre, err := f.readMeta(addr, 16, "object header")
	if err != nil {
		return nil, withPath(err, path)
	}
	if string(pre[:4]) == "OHDR" {
		return nil, &UnsupportedError{Path: path, Feature: "version-2 object header (a file written with libver='latest')"}
	}
	if pre[0] != 1 {
		return nil, &FormatError{Path: path, Offset: int64(addr), What: fmt.Sprintf("object header version %d is not 1 (or not an object header)", pre[0])}
	}
	c := &cursor{f: f, b: pre}
	c.skip(2)
	nmsgs := int(c.u16())
	c.skip(4)
	size := uint64(c.u32())
	h = &objectHeader{addr: addr}
	type block struct{ addr, size uint64 }
	queue := []block{{addr + 16, size}}
	seen := map[uint64]bool{addr: true}
	for n := 0; len(queue) > 0; n++ {
		if n > maxContinuations {
			return nil, &FormatError{Path: path, Offset: int64(addr), What: fmt.Sprintf("object header has more than %d continuation blocks", maxContinuations)}
		}
		b := queue[0]
		queue = queue[1:]
		data, err := f.readMeta(b.addr, b.size, "object header block")
		if err != nil {
			return nil, withPath(err, path)
		}
		c := &cursor{f: f, b: data}
		for c.left() >= 8 {
			typ := c.u16()
			sz := int(c.u16())
			flags := c.u8()
			c.skip(3)
			if sz%8 != 0 {
				return nil, &FormatError{Path: path, Offset: int64(b.addr) + int64(c.p), What: fmt.Sprintf("header message of type 0x%04x has size %d, not a multiple of 8", typ, sz)}
			}
			body := c.take(sz)
			if c.bad {
				return nil, &FormatError{Path: path, Offset: int64(b.addr), What: fmt.Sprintf("header message of type 0x%04x (%d bytes) runs past its header block of %d bytes", typ, sz, b.size)}
			}
			if typ == msgContinuation {
				mc := &cursor{f: f, b: body}
				ca, cl := mc.off(), mc.length()
				if mc.bad {
					return nil, &FormatError{Path: path, Offset: int64(b.addr), What: "truncated continuation message"}
				}
				if seen[ca] {
					return nil, &FormatError{Path: path, Offset: int64(ca), What: "object header continuation blocks form a cycle"}
				}
				seen[ca] = true
				queue = append(queue, block{ca, cl})
				continue
			}
			if typ == msgNIL {
				continue
			}
			if len(h.msgs) > nmsgs+maxContinuations {
				return nil, &FormatError{Path: path, Offset: int64(addr), What: fmt.Sprintf("object header holds more messages than the %d it declares", nmsgs)}
			}
			h.msgs = append(h.msgs, message{typ: typ, flags: flags, data: body})
		}
	}
	for _, m := range h.msgs {
		if name, ok := msgNames[m.typ]; ok {
			return nil, &UnsupportedError{Path: path, Feature: name}
		}
		if m.flags&0x02 != 0 {
			return nil, &UnsupportedError{Path: path, Feature: fmt.Sprintf("shared header message (type 0x%04x)", m.typ)}
		}
		if m.flags&0x80 != 0 && !knownMsg(m.typ) {
			return nil, &UnsupportedError{Path: path, Feature: fmt.Sprintf("header message type 0x%04x marked fail-if-unknown", m.typ)}
		}
	}
	f.mu.Lock()
	f.headers[addr] = h
	f.mu.Unlock()
	return h, nil
}

func knownMsg(t uint16) bool {
	switch t {
	case msgDataspace, msgDatatype, msgFillOld, msgFill, msgLayout, msgFilters, msgAttribute, msgComment,
		msgModTimeOld, msgModTime, msgSymbolTable, msgBTreeK, msgDriverInfo, msgRefCount, msgBogus:
		return true
	}
	return false
}

func withPath(err error, path string) error {
	switch e := err.(type) {
	case *FormatError:
		if e.Path == "" {
			e.Path = path
		}
	case *UnsupportedError:
		if e.Path == "" {
			e.Path = path
		}
	}
	return err
}

// object is what groups and datasets share: a path and attributes.
type object struct {
	f    *File
	path string
	hdr  *objectHeader
}

// Path is the object's path from the root, "/" for the root group.
func (o *object) Path() string { return o.path }

// Attrs lists the object's attribute names, sorted.
func (o *object) Attrs() []string {
	var names []string
	for _, m := range o.hdr.msgs {
		if m.typ == msgAttribute {
			if n, err := attrName(m.data); err == nil {
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	return names
}

// HasAttr reports whether the object has an attribute called name.
func (o *object) HasAttr(name string) bool {
	for _, m := range o.hdr.msgs {
		if m.typ == msgAttribute {
			if n, err := attrName(m.data); err == nil && n == name {
				return true
			}
		}
	}
	return false
}

// Attr decodes the attribute called name.
func (o *object) Attr(name string) (*Attribute, error) {
	for _, m := range o.hdr.msgs {
		if m.typ != msgAttribute {
			continue
		}
		if n, err := attrName(m.data); err == nil && n == name {
			return o.f.parseAttr(m.data, o.path+"@"+name)
		}
	}
	return nil, &NotFoundError{Path: o.path, Name: name, Kind: "attribute"}
}

func joinPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}
