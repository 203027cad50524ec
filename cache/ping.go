package cache

import "context"

// Ping sends PING to the server within OpTimeout: a health check, separate
// from Get and Set so that it never counts as a cache operation.
func (r *Redis) Ping(ctx context.Context) error {
	if r.closed.Load() {
		return ErrClosed
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	if err := r.client.Ping(ctx).Err(); err != nil {
		return r.wrap("ping", err)
	}
	return nil
}
