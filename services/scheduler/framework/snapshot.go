package framework

import (
	"cmp"
	"slices"
	"sync"
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
	// LabelsGeneration changes whenever Nodes or the labels of a Node change; LabelColumn's
	// columns are kept until it does.
	LabelsGeneration int64

	mu         sync.Mutex
	columns    map[string]*LabelColumn
	columnsFor int64
}

// LabelColumn is the value of one label key on every Node of a snapshot, each value
// replaced by a number: what filters compare, for thousands of Nodes per Pod, instead of
// looking the label up in each Node's map.
type LabelColumn struct {
	// IDs[i] identifies the value of Nodes[i]'s label (Nodes[i].Index is i); 0 when the Node
	// lacks the label.
	IDs []int32
	ids map[string]int32
}

// ID is the number of a label value; NoSuchValue when no Node has it.
func (c *LabelColumn) ID(value string) int32 {
	if id, ok := c.ids[value]; ok {
		return id
	}
	return NoSuchValue
}

// Values is the number of distinct values: IDs lie in [0, Values()].
func (c *LabelColumn) Values() int { return len(c.ids) }

// NodeID is the ID of a Node's value: from the column for the snapshot's Nodes, from the
// Node's labels for another (NoSuchValue when no Node of the snapshot has it).
func (c *LabelColumn) NodeID(n *NodeInfo, key string) int32 {
	if n.Index < len(c.IDs) && n.Index >= 0 {
		return c.IDs[n.Index]
	}
	v, ok := n.labels[key]
	if !ok {
		return 0
	}
	return c.ID(v)
}

// NoSuchValue is the ID of a value no Node has: no Node's entry equals it.
const NoSuchValue int32 = -1

// LabelColumn returns the column of a label key, building it on first use.
func (s *Snapshot) LabelColumn(key string) *LabelColumn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.columns == nil || s.columnsFor != s.LabelsGeneration {
		s.columns, s.columnsFor = map[string]*LabelColumn{}, s.LabelsGeneration
	}
	if c, ok := s.columns[key]; ok {
		return c
	}
	c := &LabelColumn{IDs: make([]int32, len(s.Nodes)), ids: map[string]int32{}}
	for i, n := range s.Nodes {
		v, ok := n.labels[key]
		if !ok {
			continue
		}
		id, ok := c.ids[v]
		if !ok {
			id = int32(len(c.ids) + 1)
			c.ids[v] = id
		}
		c.IDs[i] = id
	}
	s.columns[key] = c
	return c
}

// Reindex numbers the Nodes by their place in Nodes (NodeInfo.Index) and drops the label
// columns: the cache calls it after changing the list.
func (s *Snapshot) Reindex() {
	for i, n := range s.Nodes {
		n.Index = i
	}
	s.LabelsGeneration++
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
	s.Reindex()
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
