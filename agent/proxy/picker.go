package proxy

import (
	"net/netip"
	"slices"
	"sync"
	"time"
)

// maxSticky bounds the affinity table of one Service port; expired entries are dropped when
// it is full.
const maxSticky = 16384

// picker chooses the endpoint of each new connection to one Service port: round-robin among
// the ready endpoints, or with ClientIP affinity the endpoint a client IP used last, while it
// is still ready and the affinity has not expired. Safe for concurrent use.
type picker struct {
	now func() time.Time

	mu       sync.Mutex
	eps      []netip.AddrPort
	next     int
	affinity time.Duration
	sticky   map[netip.Addr]stick
}

// stick is a client IP's endpoint and when it last connected through the proxy.
type stick struct {
	ep   netip.AddrPort
	last time.Time
}

func newPicker(t Target, now func() time.Time) *picker {
	if now == nil {
		now = time.Now
	}
	p := &picker{now: now, sticky: map[netip.Addr]stick{}}
	p.update(t)
	return p
}

// update replaces the endpoints and the affinity timeout. Clients stuck to an endpoint
// still ready stay with it.
func (p *picker) update(t Target) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.eps = slices.Clone(t.Endpoints)
	p.affinity = t.Affinity
	if p.next >= len(p.eps) {
		p.next = 0
	}
	for ip, s := range p.sticky {
		if p.affinity == 0 || !slices.Contains(p.eps, s.ep) {
			delete(p.sticky, ip)
		}
	}
}

// candidates returns the endpoints to try for a new connection from client, best first:
// the client's sticky endpoint when it has a live one, then the others in round-robin
// order. Every call advances the round-robin.
func (p *picker) candidates(client netip.Addr) []netip.AddrPort {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.eps)
	if n == 0 {
		return nil
	}
	out := make([]netip.AddrPort, 0, n)
	if p.affinity > 0 {
		if s, ok := p.sticky[client]; ok {
			if p.now().Sub(s.last) < p.affinity && slices.Contains(p.eps, s.ep) {
				out = append(out, s.ep)
			} else {
				delete(p.sticky, client)
			}
		}
	}
	start := p.next
	p.next = (p.next + 1) % n
	for i := range n {
		ep := p.eps[(start+i)%n]
		if len(out) > 0 && out[0] == ep {
			continue
		}
		out = append(out, ep)
	}
	return out
}

// connected records that client reached ep, for its affinity.
func (p *picker) connected(client netip.Addr, ep netip.AddrPort) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.affinity == 0 {
		return
	}
	now := p.now()
	if _, ok := p.sticky[client]; !ok && len(p.sticky) >= maxSticky {
		for ip, s := range p.sticky {
			if now.Sub(s.last) >= p.affinity {
				delete(p.sticky, ip)
			}
		}
		if len(p.sticky) >= maxSticky {
			return
		}
	}
	p.sticky[client] = stick{ep: ep, last: now}
}
