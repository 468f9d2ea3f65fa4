package endpoints

import (
	"bytes"
	"crypto/md5"
	"fmt"
	"sort"
	"strings"

	kv1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/dump"
)

// addressKey identifies an address across subsets: its IP and the UID of the object it
// points at.
type addressKey struct {
	ip  string
	uid types.UID
}

func keyOf(a *kv1.EndpointAddress) addressKey {
	k := addressKey{ip: a.IP}
	if a.TargetRef != nil {
		k.uid = a.TargetRef.UID
	}
	return k
}

// noPort stands for "no port" in repackSubsets: a headless Service's addresses without ports.
var noPort = kv1.EndpointPort{Port: -1}

// repackSubsets regroups subsets the way Kubernetes' RepackSubsets does: every address that
// offers exactly the same ports (with the same readiness for each) shares one subset, an
// address not ready on some port counts as not ready there, and the result is sorted
// (sortSubsets), so that the same Pods always give the same object.
func repackSubsets(subsets []kv1.EndpointSubset) []kv1.EndpointSubset {
	// Each port → the addresses offering it, and whether each is ready on it.
	addrs := map[addressKey]kv1.EndpointAddress{}
	byPort := map[kv1.EndpointPort]map[addressKey]bool{}
	note := func(a kv1.EndpointAddress, port kv1.EndpointPort, ready bool) {
		k := keyOf(&a)
		if _, ok := addrs[k]; !ok {
			addrs[k] = a
		}
		set := byPort[port]
		if set == nil {
			set = map[addressKey]bool{}
			byPort[port] = set
		}
		if was, ok := set[k]; !ok || was { // not ready wins over ready
			set[k] = ready
		}
	}
	for _, ss := range subsets {
		ports := ss.Ports
		if len(ports) == 0 {
			ports = []kv1.EndpointPort{noPort}
		}
		for _, p := range ports {
			for _, a := range ss.Addresses {
				note(a, p, true)
			}
			for _, a := range ss.NotReadyAddresses {
				note(a, p, false)
			}
		}
	}
	// The same set of addresses (with readiness) → the ports they offer together.
	type group struct {
		set   map[addressKey]bool
		ports []kv1.EndpointPort
	}
	groups := map[string]*group{}
	for port, set := range byPort {
		id := setID(set)
		g := groups[id]
		if g == nil {
			g = &group{set: set}
			groups[id] = g
		}
		if port != noPort {
			g.ports = append(g.ports, port)
		}
	}
	out := make([]kv1.EndpointSubset, 0, len(groups))
	for _, g := range groups {
		var ss kv1.EndpointSubset
		for k, ready := range g.set {
			if ready {
				ss.Addresses = append(ss.Addresses, addrs[k])
			} else {
				ss.NotReadyAddresses = append(ss.NotReadyAddresses, addrs[k])
			}
		}
		ss.Ports = g.ports
		out = append(out, ss)
	}
	return sortSubsets(out)
}

// setID names a set of addresses with their readiness, independent of map order.
func setID(set map[addressKey]bool) string {
	parts := make([]string, 0, len(set))
	for k, ready := range set {
		parts = append(parts, fmt.Sprintf("%q/%q/%t", k.ip, k.uid, ready))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// sortSubsets sorts, in place, each subset's addresses by IP then target UID, its ports and
// the subsets themselves by the hash Kubernetes orders them by (the MD5 of their
// dump.ForHash rendering), and returns subsets.
func sortSubsets(subsets []kv1.EndpointSubset) []kv1.EndpointSubset {
	for i := range subsets {
		ss := &subsets[i]
		sort.Slice(ss.Addresses, func(a, b int) bool { return lessAddress(&ss.Addresses[a], &ss.Addresses[b]) })
		sort.Slice(ss.NotReadyAddresses, func(a, b int) bool {
			return lessAddress(&ss.NotReadyAddresses[a], &ss.NotReadyAddresses[b])
		})
		sortByHash(ss.Ports)
	}
	sortByHash(subsets)
	return subsets
}

// lessAddress orders addresses by IP (bytewise), then by target UID, an address without a
// target first.
func lessAddress(a, b *kv1.EndpointAddress) bool {
	if c := bytes.Compare([]byte(a.IP), []byte(b.IP)); c != 0 {
		return c < 0
	}
	if b.TargetRef == nil {
		return false
	}
	if a.TargetRef == nil {
		return true
	}
	return a.TargetRef.UID < b.TargetRef.UID
}

// sortByHash sorts s by the MD5 of each element's dump.ForHash rendering, Kubernetes' order
// of ports and subsets.
func sortByHash[T any](s []T) {
	if len(s) < 2 {
		return
	}
	hashes := make([][]byte, len(s))
	for i := range s {
		h := md5.Sum([]byte(dump.ForHash(s[i])))
		hashes[i] = h[:]
	}
	sort.Sort(byHash[T]{s, hashes})
}

type byHash[T any] struct {
	items  []T
	hashes [][]byte
}

func (b byHash[T]) Len() int           { return len(b.items) }
func (b byHash[T]) Less(i, j int) bool { return bytes.Compare(b.hashes[i], b.hashes[j]) < 0 }
func (b byHash[T]) Swap(i, j int) {
	b.items[i], b.items[j] = b.items[j], b.items[i]
	b.hashes[i], b.hashes[j] = b.hashes[j], b.hashes[i]
}
