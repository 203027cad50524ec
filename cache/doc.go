// Package cache stores seqcast's prediction responses behind one small
// interface, Cache, so that the HTTP layer never knows which backend it
// talks to.
//
// Backends:
//
//   - Memory (NewMemory, NewMemoryWithOptions): an in-process LRU with
//     per-entry TTL, bounded by entries and optionally bytes, split into
//     independently locked shards for large caches. The default; nothing to
//     set up.
//   - Redis (NewRedis): standalone, TLS, Sentinel or Cluster Redis through
//     one go-redis UniversalClient, chosen by the URL form (see NewRedis).
//     Every Get and Set is bounded by RedisOptions.OpTimeout (default 50ms)
//     and keys carry RedisOptions.Prefix (default "seqcast:"). go-redis
//     reconnects by itself once the server is back (within about a second
//     after a full outage).
//
// Wrap the backend in Guarded before serving: it turns every backend fault
// into a miss (Get) or a dropped write (Set), so the cache can slow a request
// by at most the timeout and never fail it. Guarded counts outcomes
// (Guarded.Stats) and reports each operation to an optional Hook
// func(op, backend, result string, err error) with result one of "hit",
// "miss", "ok", "error"; the HTTP layer feeds Prometheus from it (the
// package itself does not import Prometheus). Outages are logged once
// through log/slog: "cache down" (Warn) at the first failure, "cache
// recovered" (Info) at the next success.
//
// go-redis reports dial failures through its own package-wide logger
// (about one line per pooled connection slot when the server goes away);
// a binary that wants them quiet calls redis.SetLogger.
//
// Tests need a real redis-server on PATH; package internal/redistest starts
// one per test.
package cache
