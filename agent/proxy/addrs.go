package proxy

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/vishvananda/netlink"
)

// Addresses manages the /32 addresses of the interface the proxy puts ClusterIPs on.
type Addresses interface {
	// List returns the interface's IPv4 addresses.
	List() ([]netip.Addr, error)
	// Add adds addr as a /32; adding one already there is no error.
	Add(addr netip.Addr) error
	// Remove removes the /32 addr; removing one not there is no error.
	Remove(addr netip.Addr) error
}

// ErrNoPermission is wrapped in the errors of Loopback when the process may not change the
// host's addresses.
var ErrNoPermission = errors.New("the service proxy needs CAP_NET_ADMIN to add Service IPs to lo: run the agent as root, or turn the proxy off with --proxy=false")

// Loopback returns the Addresses of the host's loopback interface lo, through netlink.
func Loopback() Addresses { return loopback{name: "lo"} }

type loopback struct{ name string }

func (l loopback) link() (netlink.Link, error) {
	link, err := netlink.LinkByName(l.name)
	if err != nil {
		return nil, fmt.Errorf("find interface %s: %w", l.name, err)
	}
	return link, nil
}

func (l loopback) List() ([]netip.Addr, error) {
	link, err := l.link()
	if err != nil {
		return nil, err
	}
	addrs, err := netlink.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("list the addresses of %s: %w", l.name, err)
	}
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if ones, bits := a.Mask.Size(); ones != 32 || bits != 32 {
			continue // 127.0.0.1/8 and the like: never the proxy's
		}
		if ip, ok := netip.AddrFromSlice(a.IP.To4()); ok {
			out = append(out, ip)
		}
	}
	return out, nil
}

func (l loopback) Add(addr netip.Addr) error {
	link, err := l.link()
	if err != nil {
		return err
	}
	err = netlink.AddrAdd(link, l.netlinkAddr(addr))
	switch {
	case err == nil, errors.Is(err, syscall.EEXIST):
		return nil
	case errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EACCES):
		return fmt.Errorf("add %s/32 to %s: %w: %w", addr, l.name, ErrNoPermission, err)
	}
	return fmt.Errorf("add %s/32 to %s: %w", addr, l.name, err)
}

func (l loopback) Remove(addr netip.Addr) error {
	link, err := l.link()
	if err != nil {
		return err
	}
	err = netlink.AddrDel(link, l.netlinkAddr(addr))
	switch {
	case err == nil, errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.ENOENT):
		return nil
	case errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EACCES):
		return fmt.Errorf("remove %s/32 from %s: %w: %w", addr, l.name, ErrNoPermission, err)
	}
	return fmt.Errorf("remove %s/32 from %s: %w", addr, l.name, err)
}

func (l loopback) netlinkAddr(addr netip.Addr) *netlink.Addr {
	return &netlink.Addr{IPNet: &net.IPNet{IP: addr.AsSlice(), Mask: net.CIDRMask(32, 32)}}
}
