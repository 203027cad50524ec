package api

import (
	"container/list"
	"math"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter is a token bucket per client, bounded in size: it remembers at
// most max clients, forgetting the least recently seen one to make room,
// and forgets clients idle for clientIdle. A remembered client costs about
// 250 bytes, so the default bound (DefaultRateClients) keeps it under 3 MB
// however many addresses send requests.
type limiter struct {
	mu      sync.Mutex
	r       rate.Limit
	burst   int
	max     int
	clients map[string]*list.Element // of *client
	lru     list.List                // most recently seen first
}

type client struct {
	key  string
	lim  *rate.Limiter
	seen time.Time
}

const clientIdle = 10 * time.Minute

func newLimiter(perSec float64, burst, max int) *limiter {
	l := &limiter{r: rate.Limit(perSec), burst: burst, max: max, clients: map[string]*list.Element{}}
	l.lru.Init()
	return l
}

// allow takes a token for key; when none is left it returns the whole
// seconds to wait.
func (l *limiter) allow(key string, now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Forget idle clients, oldest first (they are at the back).
	for e := l.lru.Back(); e != nil; e = l.lru.Back() {
		if cl := e.Value.(*client); now.Sub(cl.seen) <= clientIdle {
			break
		}
		l.remove(e)
	}
	var cl *client
	if e, ok := l.clients[key]; ok {
		cl = e.Value.(*client)
		l.lru.MoveToFront(e)
	} else {
		for l.lru.Len() >= l.max {
			l.remove(l.lru.Back())
		}
		cl = &client{key: key, lim: rate.NewLimiter(l.r, l.burst)}
		l.clients[key] = l.lru.PushFront(cl)
	}
	cl.seen = now
	r := cl.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, max(1, int(math.Ceil(d.Seconds())))
	}
	return true, 0
}

func (l *limiter) remove(e *list.Element) {
	delete(l.clients, e.Value.(*client).key)
	l.lru.Remove(e)
}

// clientKey is the limiter's key for a client address: an IPv4 address as
// is, an IPv6 address by its /64 prefix (one subscriber's network, which
// can use any of its 2^64 addresses).
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}
