package ipalloc

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// DefaultRange is the default --service-cluster-ip-range.
const DefaultRange = "10.96.0.0/16"

// Limits of a range: Kubernetes refuses IPv4 service ranges larger than a /12; Berth also
// needs the tenth address, the cluster DNS server's, so at most a /28.
const (
	minPrefixBits = 12
	maxPrefixBits = 28
)

// Offsets, from the first address after the network address, of the reserved addresses.
const (
	gatewayOffset = 0 // x.x.x.1
	dnsOffset     = 9 // x.x.x.10
)

// Range is a Service cluster IP range: an IPv4 network whose addresses, but for the network
// and broadcast addresses, are Service IPs.
type Range struct {
	prefix netip.Prefix
}

// ParseRange parses a --service-cluster-ip-range value such as "10.96.0.0/16". Host bits are
// ignored ("10.96.0.1/16" is 10.96.0.0/16), as Kubernetes does.
func ParseRange(s string) (Range, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return Range{}, fmt.Errorf("invalid service cluster IP range %q: must be a CIDR such as %s", s, DefaultRange)
	}
	if !p.Addr().Is4() {
		return Range{}, fmt.Errorf("invalid service cluster IP range %q: Berth supports IPv4 service ranges only", s)
	}
	if p.Bits() < minPrefixBits {
		return Range{}, fmt.Errorf("invalid service cluster IP range %q: too large; for 32-bit addresses, the mask must be >= %d", s, minPrefixBits)
	}
	if p.Bits() > maxPrefixBits {
		return Range{}, fmt.Errorf("invalid service cluster IP range %q: too small; the mask must be <= %d to hold the cluster DNS address (the tenth)", s, maxPrefixBits)
	}
	return Range{prefix: p.Masked()}, nil
}

// MustParseRange is ParseRange for constants; it panics on error.
func MustParseRange(s string) Range {
	r, err := ParseRange(s)
	if err != nil {
		panic(err)
	}
	return r
}

// Prefix is the range's network.
func (r Range) Prefix() netip.Prefix { return r.prefix }

// String is the range in CIDR form, as in Kubernetes' messages ("10.96.0.0/16").
func (r Range) String() string { return r.prefix.String() }

// IsZero reports whether r is the zero Range (no range configured).
func (r Range) IsZero() bool { return !r.prefix.IsValid() }

// Size is the number of Service IPs: every address but the network and broadcast ones.
func (r Range) Size() uint64 { return 1<<(32-r.prefix.Bits()) - 2 }

// Gateway is the range's first address (x.x.x.1), reserved as Kubernetes reserves it for the
// "kubernetes" Service.
func (r Range) Gateway() netip.Addr { return r.addr(gatewayOffset) }

// DNS is the range's tenth address (x.x.x.10), reserved for the cluster DNS server as
// Kubernetes' installers reserve it for kube-dns.
func (r Range) DNS() netip.Addr { return r.addr(dnsOffset) }

// DNS returns the cluster DNS server's address of a --service-cluster-ip-range value: the
// tenth address of the range (10.96.0.10 for 10.96.0.0/16).
func DNS(serviceClusterIPRange string) (netip.Addr, error) {
	r, err := ParseRange(serviceClusterIPRange)
	if err != nil {
		return netip.Addr{}, err
	}
	return r.DNS(), nil
}

// Contains reports whether addr is a Service IP of the range.
func (r Range) Contains(addr netip.Addr) bool {
	_, ok := r.offset(addr)
	return ok
}

// addr is the address at offset i after the network address's successor.
func (r Range) addr(i uint64) netip.Addr {
	b := r.prefix.Addr().As4()
	v := uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
	v += 1 + i
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// offset is the inverse of addr; false outside the Service IPs of the range.
func (r Range) offset(a netip.Addr) (uint64, bool) {
	a = a.Unmap()
	if !a.Is4() || !r.prefix.Contains(a) {
		return 0, false
	}
	b, n := a.As4(), r.prefix.Addr().As4()
	v := uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
	base := uint64(n[0])<<24 | uint64(n[1])<<16 | uint64(n[2])<<8 | uint64(n[3])
	if v == base || v-base-1 >= r.Size() {
		return 0, false
	}
	return v - base - 1, true
}

// staticBand is how many of the lowest Service IPs dynamic allocation leaves to explicit
// requests while others are free: a sixteenth of the range, between 16 and 256 addresses
// (Kubernetes' ServiceIPStaticSubrange).
func (r Range) staticBand() uint64 {
	size := r.Size()
	if size < 16 {
		return 0
	}
	return min(max(16, size/16), 256)
}

// ErrAllocated is Kubernetes' error for a requested IP that another Service holds.
var ErrAllocated = errors.New("provided IP is already allocated")

// ErrFull is Kubernetes' error when no Service IP is left.
var ErrFull = errors.New("range is full")

// NotInRangeError is Kubernetes' error for a requested IP outside the range.
type NotInRangeError struct {
	// ValidRange is the range in CIDR form.
	ValidRange string
}

func (e *NotInRangeError) Error() string {
	return "provided IP is not in the valid range. The range of valid IPs is " + e.ValidRange
}
