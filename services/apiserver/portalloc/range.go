package portalloc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// DefaultRange is the default --service-node-port-range.
const DefaultRange = "30000-32767"

// Range is a range of node ports, Base to Base+Size-1.
type Range struct {
	Base int
	Size int
}

// ParseRange parses a --service-node-port-range value as Kubernetes does: "30000-32767",
// "30000+2767" (base and offset) or a single port.
func ParseRange(s string) (Range, error) {
	if strings.TrimSpace(s) == "" {
		return Range{}, fmt.Errorf("invalid service node port range %q: must not be empty", s)
	}
	pr, err := utilnet.ParsePortRange(s)
	if err != nil {
		return Range{}, fmt.Errorf("invalid service node port range %q: %w", s, err)
	}
	if pr.Base < 1 {
		return Range{}, fmt.Errorf("invalid service node port range %q: ports start at 1", s)
	}
	return Range{Base: pr.Base, Size: pr.Size}, nil
}

// MustParseRange is ParseRange for constants; it panics on error.
func MustParseRange(s string) Range {
	r, err := ParseRange(s)
	if err != nil {
		panic(err)
	}
	return r
}

// String is the range as Kubernetes writes it in messages ("30000-32767").
func (r Range) String() string {
	if r.Size == 0 {
		return ""
	}
	return strconv.Itoa(r.Base) + "-" + strconv.Itoa(r.Base+r.Size-1)
}

// IsZero reports whether r is the zero Range (no range configured).
func (r Range) IsZero() bool { return r.Size == 0 }

// Contains reports whether port is in the range.
func (r Range) Contains(port int) bool { return port >= r.Base && port < r.Base+r.Size }

// staticBand is how many of the lowest ports dynamic allocation leaves to explicit requests
// while others are free: a thirty-second of the range, between 16 and 128 ports (Kubernetes'
// ServiceNodePortStaticSubrange).
func (r Range) staticBand() uint64 {
	if r.Size < 16 {
		return 0
	}
	return uint64(min(max(16, r.Size/32), 128))
}

// ErrAllocated is Kubernetes' error for a requested node port that another Service holds.
var ErrAllocated = errors.New("provided port is already allocated")

// ErrFull is Kubernetes' error when no node port is left.
var ErrFull = errors.New("range is full")

// NotInRangeError is Kubernetes' error for a requested node port outside the range.
type NotInRangeError struct {
	// ValidPorts is the range as "30000-32767".
	ValidPorts string
}

func (e *NotInRangeError) Error() string {
	return "provided port is not in the valid range. The range of valid ports is " + e.ValidPorts
}
