package proxy

import (
	"net/netip"
	"slices"
)

// portChanges is what turns the running sockets into the desired ones.
type portChanges struct {
	// add are new sockets; update running ones whose Target changed; remove running ones no
	// longer wanted. Each is sorted.
	add, update, remove []Key
}

// diffPorts compares the running sockets' targets with the desired ones.
func diffPorts(running, desired map[Key]Target) portChanges {
	var c portChanges
	for k, t := range desired {
		cur, ok := running[k]
		switch {
		case !ok:
			c.add = append(c.add, k)
		case !cur.equal(t):
			c.update = append(c.update, k)
		}
	}
	for k := range running {
		if _, ok := desired[k]; !ok {
			c.remove = append(c.remove, k)
		}
	}
	for _, ks := range [][]Key{c.add, c.update, c.remove} {
		slices.SortFunc(ks, compareKeys)
	}
	return c
}

func compareKeys(a, b Key) int {
	if c := a.IP.Compare(b.IP); c != 0 {
		return c
	}
	if a.Port != b.Port {
		return int(a.Port) - int(b.Port)
	}
	switch {
	case a.Protocol < b.Protocol:
		return -1
	case a.Protocol > b.Protocol:
		return 1
	}
	return 0
}

// diffAddrs compares the addresses on lo with the wanted ones: add are the wanted ones
// missing, remove the ones inside the service range that nothing wants. Addresses outside
// the range are never the proxy's, whatever they are.
func diffAddrs(have []netip.Addr, want map[netip.Addr]bool, serviceRange netip.Prefix) (add, remove []netip.Addr) {
	present := map[netip.Addr]bool{}
	for _, a := range have {
		present[a] = true
		if serviceRange.Contains(a) && !want[a] {
			remove = append(remove, a)
		}
	}
	for a := range want {
		if !present[a] && serviceRange.Contains(a) {
			add = append(add, a)
		}
	}
	slices.SortFunc(add, netip.Addr.Compare)
	slices.SortFunc(remove, netip.Addr.Compare)
	return add, remove
}
