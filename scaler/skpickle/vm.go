package skpickle

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/big"
	"strconv"
	"unicode/utf8"
)

// Opcodes of pickle protocols 0 to 5 (Lib/pickle.py).
const (
	opMark           = '('
	opStop           = '.'
	opPop            = '0'
	opPopMark        = '1'
	opDup            = '2'
	opFloat          = 'F'
	opInt            = 'I'
	opBinInt         = 'J'
	opBinInt1        = 'K'
	opLong           = 'L'
	opBinInt2        = 'M'
	opNone           = 'N'
	opPersID         = 'P'
	opBinPersID      = 'Q'
	opReduce         = 'R'
	opString         = 'S'
	opBinString      = 'T'
	opShortBinString = 'U'
	opUnicode        = 'V'
	opBinUnicode     = 'X'
	opAppend         = 'a'
	opBuild          = 'b'
	opGlobal         = 'c'
	opDict           = 'd'
	opEmptyDict      = '}'
	opAppends        = 'e'
	opGet            = 'g'
	opBinGet         = 'h'
	opInst           = 'i'
	opLongBinGet     = 'j'
	opList           = 'l'
	opEmptyList      = ']'
	opObj            = 'o'
	opPut            = 'p'
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opSetItem        = 's'
	opTuple          = 't'
	opEmptyTuple     = ')'
	opSetItems       = 'u'
	opBinFloat       = 'G'

	opProto          = 0x80
	opNewObj         = 0x81
	opExt1           = 0x82
	opExt2           = 0x83
	opExt4           = 0x84
	opTuple1         = 0x85
	opTuple2         = 0x86
	opTuple3         = 0x87
	opNewTrue        = 0x88
	opNewFalse       = 0x89
	opLong1          = 0x8a
	opLong4          = 0x8b
	opBinBytes       = 'B'
	opShortBinBytes  = 'C'
	opShortBinUni    = 0x8c
	opBinUnicode8    = 0x8d
	opBinBytes8      = 0x8e
	opEmptySet       = 0x8f
	opAddItems       = 0x90
	opFrozenSet      = 0x91
	opNewObjEx       = 0x92
	opStackGlobal    = 0x93
	opMemoize        = 0x94
	opFrame          = 0x95
	opByteArray8     = 0x96
	opNextBuffer     = 0x97
	opReadonlyBuffer = 0x98
)

// maxNestedPickles bounds joblib's nested pickles (object arrays stored as
// a pickle inside the pickle).
const maxNestedPickles = 4

// vm runs a pickle stream. It only builds inert values: the one place a
// stream names code, a global, goes through findClass and its allow-list.
type vm struct {
	data     []byte
	pos      int
	frameEnd int // end of the current FRAME, -1 when not in one
	stack    []any
	marks    []int // stack lengths at each MARK
	memo     map[uint64]any
	stubKeys map[any][]uint64 // memo keys that hold an unbuilt array stub
	budget   *int64           // values left to create (shared with nested pickles)
	limit    int64
	nest     int
}

func newVM(data []byte, pos int, budget *int64, limit int64, nest int) *vm {
	return &vm{data: data, pos: pos, frameEnd: -1, memo: map[uint64]any{}, stubKeys: map[any][]uint64{},
		budget: budget, limit: limit, nest: nest}
}

func (m *vm) charge() error {
	if *m.budget <= 0 {
		return &LimitError{What: "values created by the pickle (stack pushes and memo entries)", Limit: m.limit, Claimed: -1}
	}
	*m.budget--
	return nil
}

func (m *vm) push(v any) error {
	if err := m.charge(); err != nil {
		return err
	}
	m.stack = grow(m.stack, 1)
	m.stack = append(m.stack, v)
	return nil
}

// grow makes room for n more elements, doubling the capacity: append's
// 1.25x growth of large slices allocates about 5x the final size in all.
func grow[T any](s []T, n int) []T {
	if len(s)+n <= cap(s) {
		return s
	}
	return append(make([]T, 0, max(2*cap(s), len(s)+n)), s...)
}

func (m *vm) base() int {
	if len(m.marks) == 0 {
		return 0
	}
	return m.marks[len(m.marks)-1]
}

func (m *vm) pop(at int) (any, error) {
	if len(m.stack) <= m.base() {
		return nil, formatErr(at, "stack underflow")
	}
	v := m.stack[len(m.stack)-1]
	m.stack = m.stack[:len(m.stack)-1]
	return v, nil
}

func (m *vm) top(at int) (any, error) {
	if len(m.stack) <= m.base() {
		return nil, formatErr(at, "stack underflow")
	}
	return m.stack[len(m.stack)-1], nil
}

// popMark returns the items above the last MARK and removes them and it.
func (m *vm) popMark(at int) ([]any, error) {
	if len(m.marks) == 0 {
		return nil, formatErr(at, "no MARK on the stack")
	}
	b := m.marks[len(m.marks)-1]
	m.marks = m.marks[:len(m.marks)-1]
	items := append([]any(nil), m.stack[b:]...)
	clear(m.stack[b:])
	m.stack = m.stack[:b]
	return items, nil
}

func (m *vm) remaining() int { return len(m.data) - m.pos }

// read returns the next n bytes (a slice of the input: nothing the size of
// a length claim is ever allocated), honouring FRAME boundaries as
// Python's unpickler does.
func (m *vm) read(n uint64) ([]byte, error) {
	if m.frameEnd >= 0 {
		if m.pos == m.frameEnd {
			if n == 0 {
				return nil, nil
			}
			m.frameEnd = -1
		} else if n > uint64(m.frameEnd-m.pos) {
			return nil, formatErr(m.pos, "pickle exhausted before end of frame (want %d bytes, frame has %d)", n, m.frameEnd-m.pos)
		}
	}
	if n > uint64(m.remaining()) {
		return nil, formatErr(m.pos, "pickle truncated: want %d bytes, %d left", n, m.remaining())
	}
	b := m.data[m.pos : m.pos+int(n)]
	m.pos += int(n)
	return b, nil
}

func (m *vm) readline() ([]byte, error) {
	end := len(m.data)
	if m.frameEnd >= 0 {
		if m.pos == m.frameEnd {
			m.frameEnd = -1
		} else {
			end = m.frameEnd
		}
	}
	i := bytes.IndexByte(m.data[m.pos:end], '\n')
	if i < 0 {
		return nil, formatErr(m.pos, "pickle truncated: line without newline")
	}
	line := m.data[m.pos : m.pos+i]
	m.pos += i + 1
	return line, nil
}

func (m *vm) u8() (uint64, error) {
	b, err := m.read(1)
	if err != nil {
		return 0, err
	}
	return uint64(b[0]), nil
}

func (m *vm) u16() (uint64, error) {
	b, err := m.read(2)
	if err != nil {
		return 0, err
	}
	return uint64(binary.LittleEndian.Uint16(b)), nil
}

func (m *vm) u32() (uint64, error) {
	b, err := m.read(4)
	if err != nil {
		return 0, err
	}
	return uint64(binary.LittleEndian.Uint32(b)), nil
}

func (m *vm) u64() (uint64, error) {
	b, err := m.read(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// decodeLong is pickle's little-endian two's complement integer.
func decodeLong(b []byte) any {
	if len(b) == 0 {
		return int64(0)
	}
	if len(b) <= 8 {
		var u uint64
		for i := len(b) - 1; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
		shift := 64 - 8*uint(len(b))
		return int64(u<<shift) >> shift
	}
	be := make([]byte, len(b))
	for i, c := range b {
		be[len(b)-1-i] = c
	}
	x := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if x.IsInt64() {
		return x.Int64()
	}
	return x
}

func (m *vm) memoPut(at int, key uint64) error {
	v, err := m.top(at)
	if err != nil {
		return err
	}
	if _, exists := m.memo[key]; !exists {
		if err := m.charge(); err != nil {
			return err
		}
	}
	m.memo[key] = v
	switch v.(type) {
	case *arrayStub, *wrapperStub:
		m.stubKeys[v] = append(m.stubKeys[v], key)
	}
	return nil
}

func (m *vm) memoGet(at int, key uint64) error {
	v, ok := m.memo[key]
	if !ok {
		return formatErr(at, "memo value not found at index %d", key)
	}
	return m.push(v)
}

// run executes opcodes up to STOP and returns the value STOP pops.
func (m *vm) run() (any, error) {
	for {
		at := m.pos
		b, err := m.read(1)
		if err != nil {
			return nil, formatErr(at, "pickle ends without STOP")
		}
		op := b[0]
		switch op {
		case opStop:
			return m.pop(at)
		case opProto:
			p, err := m.u8()
			if err != nil {
				return nil, err
			}
			if p > 5 {
				return nil, formatErr(at, "unsupported pickle protocol %d", p)
			}
		case opFrame:
			n, err := m.u64()
			if err != nil {
				return nil, err
			}
			if m.frameEnd >= 0 && m.pos != m.frameEnd {
				return nil, formatErr(at, "beginning of a new frame before end of current frame")
			}
			// A frame claiming more than is left covers the rest, as in
			// Python's unpickler (which reads what is there); nothing is
			// allocated for it either way.
			if n > math.MaxInt64 {
				return nil, formatErr(at, "frame size %d > max int64", n)
			}
			m.frameEnd = m.pos + int(min(n, uint64(m.remaining())))
		case opMark:
			if err := m.charge(); err != nil {
				return nil, err
			}
			m.marks = append(grow(m.marks, 1), len(m.stack))
		case opPop:
			if len(m.stack) > m.base() {
				m.stack = m.stack[:len(m.stack)-1]
			} else if _, err := m.popMark(at); err != nil {
				return nil, err
			}
		case opPopMark:
			if _, err := m.popMark(at); err != nil {
				return nil, err
			}
		case opDup:
			v, err := m.top(at)
			if err != nil {
				return nil, err
			}
			if err := m.push(v); err != nil {
				return nil, err
			}
			if err != nil {
				return nil, err
			}
		case opNone:
			if err := m.push(nil); err != nil {
				return nil, err
			}
		case opNewTrue:
			if err := m.push(true); err != nil {
				return nil, err
			}
		case opNewFalse:
			if err := m.push(false); err != nil {
				return nil, err
			}
		case opBinInt:
			var u uint64
			if u, err = m.u32(); err == nil {
				if err := m.push(int64(int32(uint32(u)))); err != nil {
					return nil, err
				}
			}
		case opBinInt1:
			var u uint64
			if u, err = m.u8(); err == nil {
				if err := m.push(int64(u)); err != nil {
					return nil, err
				}
			}
		case opBinInt2:
			var u uint64
			if u, err = m.u16(); err == nil {
				if err := m.push(int64(u)); err != nil {
					return nil, err
				}
			}
		case opLong1, opLong4, opBinString, opShortBinString, opBinBytes, opShortBinBytes, opBinBytes8,
			opByteArray8, opBinUnicode, opShortBinUni, opBinUnicode8:
			data, err := m.counted(at, op)
			if err != nil {
				return nil, err
			}
			var v any
			switch op {
			case opLong1, opLong4:
				v = decodeLong(data)
			case opBinString, opShortBinString:
				for _, c := range data { // Python 3 decodes protocol-2 str as ASCII
					if c >= 0x80 {
						return nil, formatErr(at, "Python 2 str is not ASCII")
					}
				}
				v = string(data)
			case opByteArray8:
				v = pyByteArray(data)
			case opBinUnicode, opShortBinUni, opBinUnicode8:
				if !utf8.Valid(data) {
					return nil, formatErr(at, "str is not valid UTF-8")
				}
				v = string(data)
			default:
				v = pyBytes(data)
			}
			if err := m.push(v); err != nil {
				return nil, err
			}
		case opBinFloat:
			var data []byte
			if data, err = m.read(8); err == nil {
				if err := m.push(math.Float64frombits(binary.BigEndian.Uint64(data))); err != nil {
					return nil, err
				}
			}
		case opEmptyTuple:
			if err := m.push(pyTuple{}); err != nil {
				return nil, err
			}
		case opTuple:
			items, err := m.popMark(at)
			if err != nil {
				return nil, err
			}
			if err := m.push(pyTuple(items)); err != nil {
				return nil, err
			}
		case opTuple1, opTuple2, opTuple3:
			n := int(op-opTuple1) + 1
			if len(m.stack)-m.base() < n {
				return nil, formatErr(at, "stack underflow")
			}
			t := append(pyTuple(nil), m.stack[len(m.stack)-n:]...)
			m.stack = m.stack[:len(m.stack)-n]
			if err := m.push(t); err != nil {
				return nil, err
			}
		case opEmptyList:
			if err := m.push(&pyList{}); err != nil {
				return nil, err
			}
		case opList:
			items, err := m.popMark(at)
			if err != nil {
				return nil, err
			}
			if err := m.push(&pyList{items: items}); err != nil {
				return nil, err
			}
		case opAppend:
			v, err := m.pop(at)
			if err != nil {
				return nil, err
			}
			l, err := m.topList(at)
			if err != nil {
				return nil, err
			}
			l.items = append(grow(l.items, 1), v)
		case opAppends:
			if len(m.marks) == 0 {
				return nil, formatErr(at, "no MARK on the stack")
			}
			b := m.marks[len(m.marks)-1]
			m.marks = m.marks[:len(m.marks)-1]
			if b <= m.base() {
				return nil, formatErr(at, "stack underflow")
			}
			l, ok := m.stack[b-1].(*pyList)
			if !ok {
				return nil, formatErr(at, "APPENDS to %s", typeName(m.stack[b-1]))
			}
			l.items = append(grow(l.items, len(m.stack)-b), m.stack[b:]...)
			clear(m.stack[b:])
			m.stack = m.stack[:b]
		case opEmptyDict:
			if err := m.push(newDict()); err != nil {
				return nil, err
			}
		case opDict:
			items, err := m.popMark(at)
			if err != nil {
				return nil, err
			}
			d := newDict()
			if err := setItems(at, d, items); err != nil {
				return nil, err
			}
			if err := m.push(d); err != nil {
				return nil, err
			}
		case opSetItem, opSetItems:
			var items []any
			if op == opSetItem {
				v, err := m.pop(at)
				if err != nil {
					return nil, err
				}
				k, err := m.pop(at)
				if err != nil {
					return nil, err
				}
				items = []any{k, v}
			} else if items, err = m.popMark(at); err != nil {
				return nil, err
			}
			t, err := m.top(at)
			if err != nil {
				return nil, err
			}
			d, ok := t.(*pyDict)
			if !ok {
				return nil, formatErr(at, "SETITEM on %s", typeName(t))
			}
			if err := setItems(at, d, items); err != nil {
				return nil, err
			}
		case opEmptySet:
			if err := m.push(&pySet{index: map[any]struct{}{}}); err != nil {
				return nil, err
			}
		case opAddItems, opFrozenSet:
			items, err := m.popMark(at)
			if err != nil {
				return nil, err
			}
			s := &pySet{index: map[any]struct{}{}}
			if op == opAddItems {
				t, err := m.top(at)
				if err != nil {
					return nil, err
				}
				var ok bool
				if s, ok = t.(*pySet); !ok {
					return nil, formatErr(at, "ADDITEMS on %s", typeName(t))
				}
			}
			for _, it := range items {
				hk, ok := hashKey(it)
				if !ok {
					return nil, formatErr(at, "unhashable type: %s", typeName(it))
				}
				s.index[hk] = struct{}{}
			}
			if op == opFrozenSet {
				if err := m.push(s); err != nil {
					return nil, err
				}
			}
		case opBinGet, opLongBinGet:
			var k uint64
			if op == opBinGet {
				k, err = m.u8()
			} else {
				k, err = m.u32()
			}
			if err == nil {
				err = m.memoGet(at, k)
			}
		case opBinPut, opLongBinPut:
			var k uint64
			if op == opBinPut {
				k, err = m.u8()
			} else {
				k, err = m.u32()
			}
			if err == nil {
				err = m.memoPut(at, k)
			}
		case opMemoize:
			err = m.memoPut(at, uint64(len(m.memo)))
		case opGet, opPut:
			line, err := m.readline()
			if err != nil {
				return nil, err
			}
			k, perr := strconv.ParseUint(string(line), 10, 63)
			if perr != nil {
				return nil, formatErr(at, "bad memo index %q", line)
			}
			if op == opGet {
				if err := m.memoGet(at, k); err != nil {
					return nil, err
				}
			} else if err := m.memoPut(at, k); err != nil {
				return nil, err
			}
		case opGlobal, opInst:
			mod, err := m.readline()
			if err != nil {
				return nil, err
			}
			name, err := m.readline()
			if err != nil {
				return nil, err
			}
			if !utf8.Valid(mod) || !utf8.Valid(name) {
				return nil, formatErr(at, "global name is not valid UTF-8")
			}
			g, err := findClass(string(mod), string(name))
			if err != nil {
				return nil, err
			}
			if op == opGlobal {
				if err := m.push(g); err != nil {
					return nil, err
				}
				break
			}
			args, err := m.popMark(at)
			if err != nil {
				return nil, err
			}
			v, err := m.call(at, g, args)
			if err != nil {
				return nil, err
			}
			if err := m.push(v); err != nil {
				return nil, err
			}
		case opStackGlobal:
			name, err := m.pop(at)
			if err != nil {
				return nil, err
			}
			mod, err := m.pop(at)
			if err != nil {
				return nil, err
			}
			ms, ok1 := mod.(string)
			ns, ok2 := name.(string)
			if !ok1 || !ok2 {
				return nil, formatErr(at, "STACK_GLOBAL requires str")
			}
			g, err := findClass(ms, ns)
			if err != nil {
				return nil, err
			}
			if err := m.push(g); err != nil {
				return nil, err
			}
		case opReduce:
			args, err := m.pop(at)
			if err != nil {
				return nil, err
			}
			fn, err := m.pop(at)
			if err != nil {
				return nil, err
			}
			a, ok := argList(args)
			if !ok {
				return nil, formatErr(at, "REDUCE arguments are %s, not a tuple", typeName(args))
			}
			v, err := m.call(at, fn, a)
			if err != nil {
				return nil, err
			}
			if err := m.push(v); err != nil {
				return nil, err
			}
		case opObj:
			items, err := m.popMark(at)
			if err != nil {
				return nil, err
			}
			if len(items) == 0 {
				return nil, formatErr(at, "OBJ without a class")
			}
			v, err := m.call(at, items[0], items[1:])
			if err != nil {
				return nil, err
			}
			if err := m.push(v); err != nil {
				return nil, err
			}
		case opNewObj, opNewObjEx:
			var kwargs any
			if op == opNewObjEx {
				if kwargs, err = m.pop(at); err != nil {
					return nil, err
				}
			}
			args, err := m.pop(at)
			if err != nil {
				return nil, err
			}
			cls, err := m.pop(at)
			if err != nil {
				return nil, err
			}
			v, err := newObj(at, cls, args, kwargs)
			if err != nil {
				return nil, err
			}
			if err := m.push(v); err != nil {
				return nil, err
			}
		case opBuild:
			if err = m.build(at); err != nil {
				return nil, err
			}
		case opPersID, opBinPersID:
			return nil, &UnsafeError{What: "a persistent id (PERSID/BINPERSID): a scaler pickle never holds one"}
		case opExt1, opExt2, opExt4:
			return nil, &UnsafeError{What: "an extension code (EXT1/EXT2/EXT4): a scaler pickle never holds one"}
		case opNextBuffer:
			return nil, formatErr(at, "pickle stream refers to out-of-band data (NEXT_BUFFER)")
		case opReadonlyBuffer:
			t, err := m.top(at)
			if err != nil {
				return nil, err
			}
			switch t.(type) {
			case pyBytes, pyByteArray:
			default:
				return nil, formatErr(at, "READONLY_BUFFER on %s", typeName(t))
			}
		case opInt, opLong, opFloat, opString, opUnicode:
			return nil, formatErr(at, "protocol 0/1 text opcode %q is not supported (scaler pickles use protocols 2 to 5)", rune(op))
		default:
			return nil, formatErr(at, "invalid pickle opcode 0x%02x", op)
		}
		if err != nil {
			return nil, err
		}
	}
}

// counted reads the length-prefixed argument of op: a 1-, 4- or 8-byte
// length (LONG4 and BINSTRING's signed), then that many bytes.
func (m *vm) counted(at int, op byte) ([]byte, error) {
	var n uint64
	var err error
	switch op {
	case opLong1, opShortBinString, opShortBinBytes, opShortBinUni:
		n, err = m.u8()
	case opBinBytes8, opByteArray8, opBinUnicode8:
		n, err = m.u64()
	default:
		n, err = m.u32()
		if err == nil && (op == opLong4 || op == opBinString) && int32(uint32(n)) < 0 {
			return nil, formatErr(at, "negative byte count")
		}
	}
	if err != nil {
		return nil, err
	}
	return m.read(n)
}

func (m *vm) topList(at int) (*pyList, error) {
	t, err := m.top(at)
	if err != nil {
		return nil, err
	}
	l, ok := t.(*pyList)
	if !ok {
		return nil, formatErr(at, "APPEND to %s", typeName(t))
	}
	return l, nil
}

func setItems(at int, d *pyDict, items []any) error {
	if len(items)%2 != 0 {
		return formatErr(at, "odd number of items for a dict")
	}
	for i := 0; i < len(items); i += 2 {
		if !d.set(items[i], items[i+1]) {
			return formatErr(at, "unhashable dict key: %s", typeName(items[i]))
		}
	}
	return nil
}

func argList(v any) ([]any, bool) {
	switch a := v.(type) {
	case pyTuple:
		return a, true
	case *pyList:
		return a.items, true
	}
	return nil, false
}
