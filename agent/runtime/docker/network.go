package docker

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/network"

	"github.com/berth-dev/berth/agent/runtime"
)

// network returns the ID of the Pods' network, creating it when it is missing.
func (r *Runtime) network(ctx context.Context) (string, error) {
	r.netMu.Lock()
	defer r.netMu.Unlock()
	if r.networkID != "" {
		return r.networkID, nil
	}
	id, err := r.ensureNetwork(ctx)
	if err != nil {
		return "", err
	}
	r.networkID = id
	return id, nil
}

// forgetNetwork makes the next call to network look the network up again (someone removed it).
func (r *Runtime) forgetNetwork() {
	r.netMu.Lock()
	r.networkID = ""
	r.netMu.Unlock()
}

// ensureNetwork finds the network by name or creates it, on a subnet no other network uses.
func (r *Runtime) ensureNetwork(ctx context.Context) (string, error) {
	name := r.opts.Network
	for attempt := 0; ; attempt++ {
		nw, err := r.cli.NetworkInspect(ctx, name, network.InspectOptions{})
		if err == nil {
			return nw.ID, nil
		}
		if !cerrdefs.IsNotFound(err) {
			return "", wrap(err, "inspect network %s", name)
		}
		subnet := r.opts.Subnet
		if subnet == "" {
			nets, err := r.cli.NetworkList(ctx, network.ListOptions{})
			if err != nil {
				return "", wrap(err, "list networks")
			}
			p, err := freeSubnet(usedPrefixes(nets), hostPrefixes())
			if err != nil {
				return "", fmt.Errorf("network %s: %w", name, err)
			}
			subnet = p.String()
		}
		resp, err := r.cli.NetworkCreate(ctx, name, network.CreateOptions{
			Driver: "bridge",
			IPAM:   &network.IPAM{Config: []network.IPAMConfig{{Subnet: subnet}}},
			Labels: map[string]string{runtime.LabelManaged: "true"},
		})
		switch {
		case err == nil:
			r.log.Info("created the Pods' network", "network", name, "subnet", subnet)
			return resp.ID, nil
		case attempt < 3 && (cerrdefs.IsConflict(err) || strings.Contains(err.Error(), "already exists")):
			continue // another agent created it first: inspect it
		case attempt < 3 && r.opts.Subnet == "" && strings.Contains(err.Error(), "overlaps"):
			continue // another network took the subnet meanwhile: pick again
		default:
			return "", wrap(err, "create network %s on %s", name, subnet)
		}
	}
}

// usedPrefixes are the subnets of Docker networks.
func usedPrefixes(nets []network.Summary) []netip.Prefix {
	var used []netip.Prefix
	for _, n := range nets {
		for _, c := range n.IPAM.Config {
			if p, err := netip.ParsePrefix(c.Subnet); err == nil {
				used = append(used, p.Masked())
			}
		}
	}
	return used
}

// hostPrefixes are the networks of the host's interfaces, which a Pod network must not hide.
func hostPrefixes() []netip.Prefix {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if p, err := netip.ParsePrefix(n.String()); err == nil {
				out = append(out, p.Masked())
			}
		}
	}
	return out
}

// candidateSubnets are the subnets Berth tries for its network, in order: 10.244.0.0/16 (the
// Pod range Kubernetes users know) to 10.254.0.0/16, then 172.20.0.0/16 to 172.31.0.0/16.
// They stay clear of 10.96.0.0/12, Kubernetes' default Service range.
func candidateSubnets() []netip.Prefix {
	var out []netip.Prefix
	for b := 244; b <= 254; b++ {
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(b), 0, 0}), 16))
	}
	for b := 20; b <= 31; b++ {
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(b), 0, 0}), 16))
	}
	return out
}

// freeSubnet is the first candidate subnet that overlaps none of used.
func freeSubnet(used ...[]netip.Prefix) (netip.Prefix, error) {
next:
	for _, c := range candidateSubnets() {
		for _, list := range used {
			for _, u := range list {
				if c.Overlaps(u) {
					continue next
				}
			}
		}
		return c, nil
	}
	return netip.Prefix{}, fmt.Errorf("no free subnet among 10.244-254.0.0/16 and 172.20-31.0.0/16; set one")
}
