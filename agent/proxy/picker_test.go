package proxy

import (
	"net/netip"
	"testing"
	"time"
)

func TestPickerRoundRobin(t *testing.T) {
	e1, e2, e3 := ap("172.18.0.2:80"), ap("172.18.0.3:80"), ap("172.18.0.4:80")
	p := newPicker(Target{Endpoints: []netip.AddrPort{e1, e2, e3}}, nil)
	client := netip.MustParseAddr("172.18.0.9")
	var firsts []netip.AddrPort
	for range 6 {
		c := p.candidates(client)
		if len(c) != 3 {
			t.Fatalf("candidates = %v, want all three endpoints", c)
		}
		firsts = append(firsts, c[0])
		p.connected(client, c[0])
	}
	want := []netip.AddrPort{e1, e2, e3, e1, e2, e3}
	for i := range want {
		if firsts[i] != want[i] {
			t.Fatalf("first choices = %v, want %v", firsts, want)
		}
	}
	// Fewer endpoints: the round-robin goes on within them.
	p.update(Target{Endpoints: []netip.AddrPort{e2}})
	if c := p.candidates(client); len(c) != 1 || c[0] != e2 {
		t.Fatalf("after update, candidates = %v, want [%v]", c, e2)
	}
	p.update(Target{})
	if c := p.candidates(client); c != nil {
		t.Fatalf("no endpoints: candidates = %v, want none", c)
	}
}

func TestPickerAffinity(t *testing.T) {
	e1, e2, e3 := ap("172.18.0.2:80"), ap("172.18.0.3:80"), ap("172.18.0.4:80")
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	a, b := netip.MustParseAddr("172.18.0.9"), netip.MustParseAddr("172.18.0.10")
	tests := []struct {
		name string
		run  func(t *testing.T, p *picker)
	}{
		{"a client sticks to its first endpoint", func(t *testing.T, p *picker) {
			first := p.candidates(a)[0]
			p.connected(a, first)
			for range 10 {
				c := p.candidates(a)
				if c[0] != first || len(c) != 3 {
					t.Fatalf("candidates = %v, want %v first, then the others", c, first)
				}
				p.connected(a, c[0])
			}
		}},
		{"another client gets the next endpoint", func(t *testing.T, p *picker) {
			p.connected(a, p.candidates(a)[0])
			if c := p.candidates(b); c[0] == e1 {
				t.Fatalf("client b got %v, client a's endpoint", c[0])
			}
		}},
		{"the affinity expires after the timeout without connections", func(t *testing.T, p *picker) {
			p.connected(a, p.candidates(a)[0]) // e1
			now = now.Add(9 * time.Second)
			if c := p.candidates(a); c[0] != e1 {
				t.Fatalf("within the timeout: %v, want %v", c[0], e1)
			}
			p.connected(a, e1)
			now = now.Add(10 * time.Second)
			if c := p.candidates(a); c[0] == e1 {
				t.Fatalf("after the timeout: still %v", c[0])
			}
		}},
		{"an endpoint no longer ready loses its clients", func(t *testing.T, p *picker) {
			p.connected(a, p.candidates(a)[0]) // e1
			p.update(Target{Endpoints: []netip.AddrPort{e2, e3}, Affinity: 10 * time.Second})
			if c := p.candidates(a); c[0] == e1 || len(c) != 2 {
				t.Fatalf("candidates = %v, want e2 and e3 only", c)
			}
		}},
		{"a failed dial: the client sticks to the endpoint it reached", func(t *testing.T, p *picker) {
			c := p.candidates(a) // e1 failed, say; e2 answered
			p.connected(a, c[1])
			if got := p.candidates(a)[0]; got != c[1] {
				t.Fatalf("after reaching %v: %v first", c[1], got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now = time.Unix(1000, 0)
			tt.run(t, newPicker(Target{Endpoints: []netip.AddrPort{e1, e2, e3}, Affinity: 10 * time.Second}, clock))
		})
	}
}
