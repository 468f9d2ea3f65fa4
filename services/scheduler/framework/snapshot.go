package framework

import (
	"cmp"
	"slices"
)

// Snapshot is a read-only view of the cluster for one scheduling decision: every Node with
// the Pods placed or assumed on it. The scheduler's cache keeps one Snapshot up to date in
// place (see cache.Cache.UpdateSnapshot); tests build one with NewSnapshot.
type Snapshot struct {
	// Nodes is every Node in search order: zones interleaved (the first Node of each zone,
	// then the second of each, ...), so that a search that stops early still spans zones.
	Nodes []*NodeInfo
	// ByName indexes Nodes by name.
	ByName map[string]*NodeInfo
	// Generation is the cache generation the snapshot reflects.
	Generation int64
	// Order is the cache's generation of the Node order Nodes follows.
	Order int64
}

// NewSnapshot returns a snapshot of nodes, ordered by zone then name, interleaved.
func NewSnapshot(nodes ...*NodeInfo) *Snapshot {
	s := &Snapshot{ByName: make(map[string]*NodeInfo, len(nodes))}
	for _, n := range nodes {
		s.ByName[n.Name] = n
	}
	names := make([]string, 0, len(nodes))
	zones := make(map[string]string, len(nodes))
	for _, n := range nodes {
		names = append(names, n.Name)
		zones[n.Name] = n.Zone
	}
	for _, name := range InterleaveZones(names, zones) {
		s.Nodes = append(s.Nodes, s.ByName[name])
	}
	return s
}

// Get returns the Node named name, or nil.
func (s *Snapshot) Get(name string) *NodeInfo { return s.ByName[name] }

// NumNodes is the number of Nodes.
func (s *Snapshot) NumNodes() int { return len(s.Nodes) }

// InterleaveZones orders Node names as Kubernetes' node tree does: zones sorted, Nodes
// sorted by name within each zone, then one Node of each zone in turn.
func InterleaveZones(names []string, zoneOf map[string]string) []string {
	byZone := map[string][]string{}
	for _, n := range names {
		z := zoneOf[n]
		byZone[z] = append(byZone[z], n)
	}
	zones := make([]string, 0, len(byZone))
	for z, ns := range byZone {
		zones = append(zones, z)
		slices.SortFunc(ns, cmp.Compare)
	}
	slices.Sort(zones)
	out := make([]string, 0, len(names))
	for i := 0; len(out) < len(names); i++ {
		for _, z := range zones {
			if ns := byZone[z]; i < len(ns) {
				out = append(out, ns[i])
			}
		}
	}
	return out
}
