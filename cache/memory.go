package cache

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"time"
)

// entryOverhead approximates the bytes an entry costs beyond its key and
// value (list links, map slot, expiry), for MemoryOptions.MaxBytes.
const entryOverhead = 96

// shardThreshold: below this many entries per shard the memory cache uses a
// single shard, so that small caches evict in exact LRU order.
const shardThreshold = 256

// MemoryOptions configures NewMemoryWithOptions. The zero value of every field
// means "default".
type MemoryOptions struct {
	// MaxEntries bounds the number of entries (default 10000).
	MaxEntries int
	// MaxBytes, if > 0, also bounds len(key)+len(value)+~96 bytes summed over
	// entries. A value larger than a shard's share of MaxBytes is not stored.
	MaxBytes int64
	// Shards splits the cache into independently locked LRUs, each holding
	// MaxEntries/Shards entries (and MaxBytes/Shards bytes); eviction is LRU
	// within a shard. Default: 16 when MaxEntries >= 16*256, else 1 (exact
	// LRU). Rounded up to a power of two.
	Shards int
	// Now replaces time.Now (tests).
	Now func() time.Time
}

// Memory is an in-process LRU cache with per-entry TTL. Expired entries are
// never served; they are dropped when looked up or when they reach the LRU
// tail. It is safe for concurrent use.
type Memory struct {
	shards []memShard
	mask   uint64
	seed   maphash.Seed
	now    func() time.Time
}

type memShard struct {
	mu         sync.Mutex
	items      map[string]*memEntry
	head       memEntry // sentinel: head.next is most recent, head.prev least
	maxEntries int
	maxBytes   int64
	bytes      int64
	closed     bool
	_          [32]byte // keep neighbouring shards' mutexes off one cache line
}

type memEntry struct {
	prev, next *memEntry
	key        string
	val        []byte
	expires    int64 // unix nanoseconds; 0 = never
}

// NewMemory returns an LRU cache holding at most maxEntries entries
// (maxEntries <= 0 selects the default, 10000).
func NewMemory(maxEntries int) *Memory {
	m, _ := NewMemoryWithOptions(MemoryOptions{MaxEntries: maxEntries})
	return m
}

// NewMemoryWithOptions returns an LRU cache configured by o.
func NewMemoryWithOptions(o MemoryOptions) (*Memory, error) {
	if o.MaxEntries <= 0 {
		o.MaxEntries = 10000
	}
	if o.MaxBytes < 0 {
		return nil, fmt.Errorf("cache: memory: MaxBytes %d < 0", o.MaxBytes)
	}
	if o.Shards < 0 {
		return nil, fmt.Errorf("cache: memory: Shards %d < 0", o.Shards)
	}
	if o.Shards == 0 {
		o.Shards = 1
		if o.MaxEntries >= 16*shardThreshold {
			o.Shards = 16
		}
	}
	n := 1
	for n < o.Shards {
		n <<= 1
	}
	if n > o.MaxEntries {
		return nil, fmt.Errorf("cache: memory: Shards %d > MaxEntries %d", n, o.MaxEntries)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Memory{
		shards: make([]memShard, n),
		mask:   uint64(n - 1),
		seed:   maphash.MakeSeed(),
		now:    o.Now,
	}
	for i := range m.shards {
		s := &m.shards[i]
		s.items = make(map[string]*memEntry)
		s.head.next, s.head.prev = &s.head, &s.head
		s.maxEntries = (o.MaxEntries + n - 1) / n
		if o.MaxBytes > 0 {
			s.maxBytes = (o.MaxBytes + int64(n) - 1) / int64(n)
		}
	}
	return m, nil
}

func (m *Memory) shard(key string) *memShard {
	if m.mask == 0 {
		return &m.shards[0]
	}
	return &m.shards[maphash.String(m.seed, key)&m.mask]
}

// Backend returns "memory".
func (m *Memory) Backend() string { return BackendMemory }

// Get returns the value stored under key if present and not expired. The
// returned slice must not be modified.
func (m *Memory) Get(_ context.Context, key string) ([]byte, bool, error) {
	s := m.shard(key)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, false, ErrClosed
	}
	e, ok := s.items[key]
	if !ok {
		s.mu.Unlock()
		return nil, false, nil
	}
	if e.expires != 0 && m.now().UnixNano() >= e.expires {
		s.remove(e)
		s.mu.Unlock()
		return nil, false, nil
	}
	s.moveToFront(e)
	v := e.val
	s.mu.Unlock()
	return v, true, nil
}

// Set stores a copy of val under key for ttl (ttl <= 0: not at all, see
// Cache), evicting least recently used entries as needed.
func (m *Memory) Set(_ context.Context, key string, val []byte, ttl time.Duration) error {
	if ttl <= 0 {
		s := m.shard(key)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed {
			return ErrClosed
		}
		return nil
	}
	expires := m.now().Add(ttl).UnixNano()
	v := make([]byte, len(val))
	copy(v, val)
	size := entrySize(key, v)

	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if e, ok := s.items[key]; ok {
		s.remove(e)
	}
	if s.maxBytes > 0 && size > s.maxBytes {
		return nil // too large to cache; the old value (if any) is gone too
	}
	e := &memEntry{key: key, val: v, expires: expires}
	s.items[key] = e
	s.bytes += size
	s.pushFront(e)
	for len(s.items) > s.maxEntries || (s.maxBytes > 0 && s.bytes > s.maxBytes) {
		s.remove(s.head.prev)
	}
	return nil
}

// Len returns the number of entries held, including expired ones not yet
// dropped.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.items)
		s.mu.Unlock()
	}
	return n
}

// Close drops every entry; later Get and Set return ErrClosed.
func (m *Memory) Close() error {
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		s.closed = true
		s.items = nil
		s.head.next, s.head.prev = &s.head, &s.head
		s.bytes = 0
		s.mu.Unlock()
	}
	return nil
}

func entrySize(key string, val []byte) int64 {
	return int64(len(key) + len(val) + entryOverhead)
}

func (s *memShard) pushFront(e *memEntry) {
	e.prev = &s.head
	e.next = s.head.next
	e.next.prev = e
	s.head.next = e
}

func (s *memShard) moveToFront(e *memEntry) {
	if s.head.next == e {
		return
	}
	e.prev.next = e.next
	e.next.prev = e.prev
	s.pushFront(e)
}

func (s *memShard) remove(e *memEntry) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
	delete(s.items, e.key)
	s.bytes -= entrySize(e.key, e.val)
}
