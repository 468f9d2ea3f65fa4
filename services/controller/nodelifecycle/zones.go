package nodelifecycle

import (
	"sync"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Zones, as Kubernetes' node lifecycle controller weighs them: when too many Nodes of a zone
// are not ready, the fault is more likely the network's (or the control plane's) than the
// Nodes', and evicting their Pods would make things worse.
const (
	// LabelExcludeDisruption keeps a Node out of the zones' counts.
	LabelExcludeDisruption = "node.kubernetes.io/exclude-disruption"
	// unhealthyZoneThreshold is the share of not-ready Nodes (more than two) from which a zone
	// is partially disrupted.
	unhealthyZoneThreshold = 0.55
	// largeClusterThreshold is the zone size up to which a partially disrupted zone gets no
	// new NoExecute taints at all (above it Kubernetes adds them slowly; Berth as usual).
	largeClusterThreshold = 50
)

// Topology labels a Node's zone is read from (the beta ones when the GA ones are absent).
const (
	labelRegion     = "topology.kubernetes.io/region"
	labelZone       = "topology.kubernetes.io/zone"
	labelBetaRegion = "failure-domain.beta.kubernetes.io/region"
	labelBetaZone   = "failure-domain.beta.kubernetes.io/zone"
)

// zoneState is the health of a zone.
type zoneState int

const (
	stateNormal zoneState = iota
	statePartialDisruption
	stateFullDisruption
)

// zoneKey is the zone of a Node, from its topology labels ("" without them).
func zoneKey(labels map[string]string) string {
	region, zone := labels[labelRegion], labels[labelZone]
	if region == "" {
		region = labels[labelBetaRegion]
	}
	if zone == "" {
		zone = labels[labelBetaZone]
	}
	if region == "" && zone == "" {
		return ""
	}
	return region + ":\x00:" + zone
}

// zoneCount is how many Nodes of a zone are ready and not.
type zoneCount struct{ ready, notReady int }

func (c zoneCount) state() zoneState {
	switch {
	case c.ready == 0 && c.notReady > 0:
		return stateFullDisruption
	case c.notReady > 2 && float64(c.notReady)/float64(c.ready+c.notReady) >= unhealthyZoneThreshold:
		return statePartialDisruption
	}
	return stateNormal
}

// nodeZone is where a Node is counted.
type nodeZone struct {
	zone  string
	ready bool
}

// zones counts the ready and not-ready Nodes of each zone, kept current by the Node
// informer's events.
type zones struct {
	mu     sync.Mutex
	nodes  map[string]nodeZone
	counts map[string]*zoneCount
}

func newZones() *zones {
	return &zones{nodes: map[string]nodeZone{}, counts: map[string]*zoneCount{}}
}

// zoneChange tells what an update of the counts changed.
type zoneChange struct {
	// changed is true when a zone's state, or whether all are fully disrupted, changed.
	changed bool
	// recovered is true when the zones stopped being all fully disrupted.
	recovered bool
}

// set counts node where it now belongs (nowhere when deleted or excluded).
func (z *zones) set(name string, node *corev1.Node, deleted bool) zoneChange {
	z.mu.Lock()
	defer z.mu.Unlock()
	old, had := z.nodes[name]
	var nz nodeZone
	counted := !deleted
	if counted {
		labels := node.GetMetadata().GetLabels()
		_, excluded := labels[LabelExcludeDisruption]
		counted = !excluded
		nz = nodeZone{zone: zoneKey(labels), ready: condition(node.GetStatus(), ConditionReady).GetStatus() == StatusTrue}
	}
	if had == counted && (!counted || old == nz) {
		return zoneChange{}
	}
	allBefore := z.allDisruptedLocked()
	touched := map[string]zoneState{}
	if had {
		touched[old.zone] = z.stateLocked(old.zone)
		z.count(old, -1)
		delete(z.nodes, name)
	}
	if counted {
		if _, ok := touched[nz.zone]; !ok {
			touched[nz.zone] = z.stateLocked(nz.zone)
		}
		z.count(nz, 1)
		z.nodes[name] = nz
	}
	allAfter := z.allDisruptedLocked()
	ch := zoneChange{changed: allBefore != allAfter, recovered: allBefore && !allAfter}
	for zone, before := range touched {
		if z.stateLocked(zone) != before {
			ch.changed = true
		}
	}
	return ch
}

func (z *zones) count(nz nodeZone, d int) {
	c := z.counts[nz.zone]
	if c == nil {
		c = &zoneCount{}
		z.counts[nz.zone] = c
	}
	if nz.ready {
		c.ready += d
	} else {
		c.notReady += d
	}
	if c.ready == 0 && c.notReady == 0 {
		delete(z.counts, nz.zone)
	}
}

func (z *zones) stateLocked(zone string) zoneState {
	if c := z.counts[zone]; c != nil {
		return c.state()
	}
	return stateNormal
}

// allDisruptedLocked reports whether there are Nodes and none of them is ready.
func (z *zones) allDisruptedLocked() bool {
	for _, c := range z.counts {
		if c.state() != stateFullDisruption {
			return false
		}
	}
	return len(z.counts) > 0
}

// noExecutePolicy says what the zones allow for the NoExecute taints of a Node of zone:
// strip, when every zone is fully disrupted, removes them all and adds none (Kubernetes'
// "master disruption mode"); otherwise allowNew tells whether new ones may be added (a
// small, partially disrupted zone gets none; not-ready and unreachable still swap).
func (z *zones) noExecutePolicy(zone string) (strip, allowNew bool) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.allDisruptedLocked() {
		return true, false
	}
	c := z.counts[zone]
	if c != nil && c.state() == statePartialDisruption && c.ready+c.notReady <= largeClusterThreshold {
		return false, false
	}
	return false, true
}
