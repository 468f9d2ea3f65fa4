package framework

import (
	"maps"
	"slices"
	"strings"
	"unique"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Well-known label keys.
const (
	LabelHostname = "kubernetes.io/hostname"
	LabelZone     = "topology.kubernetes.io/zone"
	LabelRegion   = "topology.kubernetes.io/region"
)

// PodInfo is a Pod with what the scheduler computes from it once: its requests, host ports
// and controller. It is immutable once built; Pod must not be modified.
type PodInfo struct {
	Pod *corev1.Pod
	// Key is "namespace/name".
	Key string
	UID string
	// NodeName is the Node the Pod is bound or assumed to; "" while it waits.
	NodeName string
	// Requests is what NodeResourcesFit checks; NonZeroRequests counts defaults for
	// containers without CPU or memory requests, for scoring.
	Requests, NonZeroRequests Resource
	// HostPorts are the host ports the Pod's containers ask for.
	HostPorts []HostPort
	// OwnerUID is the uid of the Pod's controller (the ownerReference with controller: true).
	OwnerUID string
	// Owner is OwnerUID interned: comparing two is comparing two pointers.
	Owner unique.Handle[string]
	// LabelSet interns the Pod's namespace and labels: the Pods of a Node with the same
	// LabelSet are counted together (NodeInfo.LabelSets), and a selector is matched once per
	// LabelSet rather than once per Pod.
	LabelSet unique.Handle[string]
	// Priority is spec.priority (0 when unset).
	Priority int32
	// Terminating is true once the Pod has a deletionTimestamp.
	Terminating bool
	// namespace and labels are the Pod's, kept here so that plugins counting the Pods of a
	// Node read them without following the Pod's pointers.
	namespace string
	labels    map[string]string
}

// HostPort is a host port a Pod uses. IP "" and "0.0.0.0" mean every address.
type HostPort struct {
	IP       string
	Protocol string
	Port     int32
}

// conflicts reports whether two host ports cannot be used together on one Node.
func (p HostPort) conflicts(o HostPort) bool {
	if p.Port != o.Port || p.Protocol != o.Protocol {
		return false
	}
	return p.IP == o.IP || p.IP == "0.0.0.0" || o.IP == "0.0.0.0"
}

// NewPodInfo computes the PodInfo of pod. The Pod is shared, not copied.
func NewPodInfo(pod *corev1.Pod) *PodInfo {
	md := pod.GetMetadata()
	spec := pod.GetSpec()
	pi := &PodInfo{
		Pod:         pod,
		namespace:   md.GetNamespace(),
		labels:      md.GetLabels(),
		Key:         md.GetNamespace() + "/" + md.GetName(),
		UID:         md.GetUid(),
		NodeName:    spec.GetNodeName(),
		Priority:    spec.GetPriority(),
		Terminating: md.GetDeletionTimestamp() != nil,
	}
	pi.LabelSet = unique.Make(labelSetKey(pi.namespace, pi.labels))
	pi.Requests, pi.NonZeroRequests = PodRequests(spec)
	for _, c := range spec.GetContainers() {
		for _, p := range c.GetPorts() {
			if p.GetHostPort() <= 0 {
				continue
			}
			hp := HostPort{IP: p.GetHostIp(), Protocol: p.GetProtocol(), Port: p.GetHostPort()}
			if hp.IP == "" {
				hp.IP = "0.0.0.0"
			}
			if hp.Protocol == "" {
				hp.Protocol = "TCP"
			}
			pi.HostPorts = append(pi.HostPorts, hp)
		}
	}
	for _, ref := range md.GetOwnerReferences() {
		if ref.GetController() {
			pi.OwnerUID = ref.GetUid()
			pi.Owner = unique.Make(pi.OwnerUID)
			break
		}
	}
	return pi
}

// labelSetKey is a namespace and labels as one string, the same for equal labels.
func labelSetKey(ns string, labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	n := len(ns)
	for k, v := range labels {
		keys = append(keys, k)
		n += len(k) + len(v) + 2
	}
	slices.Sort(keys)
	var b strings.Builder
	b.Grow(n)
	b.WriteString(ns)
	for _, k := range keys {
		b.WriteByte(0)
		b.WriteString(k)
		b.WriteByte(1)
		b.WriteString(labels[k])
	}
	return b.String()
}

// WithNode returns a copy of pi placed on node: what the scheduler assumes while it binds.
func (pi *PodInfo) WithNode(node string) *PodInfo {
	c := *pi
	c.NodeName = node
	return &c
}

// Namespace is the Pod's namespace.
func (pi *PodInfo) Namespace() string { return pi.namespace }

// Labels are the Pod's labels.
func (pi *PodInfo) Labels() map[string]string { return pi.labels }

// NodeInfo is a Node with the Pods placed or assumed on it and what they add up to. Nodes of
// a Snapshot are read-only.
type NodeInfo struct {
	// Node is nil for a Node the cache has Pods of but no object (yet, or any more).
	Node *corev1.Node
	Name string
	Pods []*PodInfo
	// Allocatable is what the Node offers (status.allocatable).
	Allocatable Resource
	// Requested sums the Pods' requests; NonZeroRequested their NonZeroRequests.
	Requested, NonZeroRequested Resource
	// UsedPorts are the host ports of the Pods.
	UsedPorts []HostPort
	// owners counts the Pods of each controller that are not terminating: a short list, read
	// for every Node scored, so kept in one piece of memory rather than a map.
	owners []ownerCount
	// labelSets counts the Pods of each LabelSet that are not terminating.
	labelSets []LabelSetCount
	// Generation increases with every change; the cache uses it to update snapshots.
	Generation int64
	// Index is the Node's place in its Snapshot's Nodes.
	Index int
	// Zone is the Node's topology zone ("region:\x00:zone"), "" when it has no zone labels.
	Zone string
	// Ready is whether the Node's Ready condition is True; NotReadyTaint is the taint key
	// Kubernetes' node lifecycle would put on it when it is not (not-ready or unreachable).
	Ready bool
	// BadAllocatable names allocatable quantities that did not parse.
	BadAllocatable []string
	// Unschedulable and Taints are the Node's spec.unschedulable and spec.taints, and labels
	// its labels: kept here so that filters read them without following the Node's pointers.
	Unschedulable bool
	Taints        []*corev1.Taint
	labels        map[string]string
}

// Taints Kubernetes' node lifecycle puts on Nodes that are not ready.
const (
	TaintNodeNotReady      = "node.kubernetes.io/not-ready"
	TaintNodeUnreachable   = "node.kubernetes.io/unreachable"
	TaintNodeUnschedulable = "node.kubernetes.io/unschedulable"
)

// NewNodeInfo returns the NodeInfo of node with pods on it.
func NewNodeInfo(node *corev1.Node, pods ...*PodInfo) *NodeInfo {
	ni := &NodeInfo{}
	if node != nil {
		ni.SetNode(node)
	}
	for _, p := range pods {
		ni.AddPod(p)
	}
	return ni
}

// SetNode sets (or replaces) the Node object.
func (ni *NodeInfo) SetNode(node *corev1.Node) {
	ni.Node = node
	ni.Name = node.GetMetadata().GetName()
	ni.Allocatable, ni.BadAllocatable = ParseResourceList(node.GetStatus().GetAllocatable())
	ni.labels = node.GetMetadata().GetLabels()
	ni.Unschedulable = node.GetSpec().GetUnschedulable()
	ni.Taints = node.GetSpec().GetTaints()
	ni.Zone = ZoneKey(ni.labels)
	ni.Ready = false
	for _, c := range node.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			ni.Ready = c.GetStatus() == "True"
		}
	}
	ni.Generation++
}

// NotReadyTaint is the taint Kubernetes' node lifecycle controller would put on the Node for
// its Ready condition: none when Ready is True, not-ready when it is False or missing,
// unreachable when it is Unknown.
func (ni *NodeInfo) NotReadyTaint() string {
	if ni.Ready {
		return ""
	}
	for _, c := range ni.Node.GetStatus().GetConditions() {
		if c.GetType() == "Ready" && c.GetStatus() == "Unknown" {
			return TaintNodeUnreachable
		}
	}
	return TaintNodeNotReady
}

// ZoneKey is the zone of a Node's labels as one string (region and zone), "" without them.
func ZoneKey(labels map[string]string) string {
	region, zone := labels[LabelRegion], labels[LabelZone]
	if region == "" && zone == "" {
		return ""
	}
	return region + ":\x00:" + zone
}

// AddPod places p on the Node.
func (ni *NodeInfo) AddPod(p *PodInfo) {
	ni.Pods = append(ni.Pods, p)
	ni.Requested.Add(&p.Requests)
	ni.NonZeroRequested.Add(&p.NonZeroRequests)
	ni.UsedPorts = append(ni.UsedPorts, p.HostPorts...)
	if !p.Terminating {
		if p.OwnerUID != "" {
			ni.countOwner(p.Owner, 1)
		}
		ni.countLabelSet(p, 1)
	}
	ni.Generation++
}

// LabelSetCount is a number of Pods on a Node with the same namespace and labels.
type LabelSetCount struct {
	Set       unique.Handle[string]
	Namespace string
	Labels    map[string]string
	Pods      int32
}

// LabelSets are the Node's Pods that are not terminating, by LabelSet.
func (ni *NodeInfo) LabelSets() []LabelSetCount { return ni.labelSets }

func (ni *NodeInfo) countLabelSet(p *PodInfo, delta int32) {
	for i := range ni.labelSets {
		if ni.labelSets[i].Set == p.LabelSet {
			if ni.labelSets[i].Pods += delta; ni.labelSets[i].Pods <= 0 {
				ni.labelSets = slices.Delete(ni.labelSets, i, i+1)
			}
			return
		}
	}
	if delta > 0 {
		ni.labelSets = append(ni.labelSets, LabelSetCount{Set: p.LabelSet, Namespace: p.namespace, Labels: p.labels, Pods: delta})
	}
}

type ownerCount struct {
	owner unique.Handle[string]
	n     int32
}

func (ni *NodeInfo) countOwner(owner unique.Handle[string], delta int32) {
	for i := range ni.owners {
		if ni.owners[i].owner == owner {
			if ni.owners[i].n += delta; ni.owners[i].n <= 0 {
				ni.owners = slices.Delete(ni.owners, i, i+1)
			}
			return
		}
	}
	if delta > 0 {
		ni.owners = append(ni.owners, ownerCount{owner: owner, n: delta})
	}
}

// OwnedPods is the number of Pods of the controller owner (a PodInfo's Owner) on the Node, not
// counting terminating ones.
func (ni *NodeInfo) OwnedPods(owner unique.Handle[string]) int64 {
	for _, o := range ni.owners {
		if o.owner == owner {
			return int64(o.n)
		}
	}
	return 0
}

// RemovePod removes the Pod with uid from the Node; false if it is not there.
func (ni *NodeInfo) RemovePod(uid string) bool {
	i := slices.IndexFunc(ni.Pods, func(p *PodInfo) bool { return p.UID == uid })
	if i < 0 {
		return false
	}
	p := ni.Pods[i]
	last := len(ni.Pods) - 1
	ni.Pods[i] = ni.Pods[last]
	ni.Pods[last] = nil
	ni.Pods = ni.Pods[:last]
	ni.Requested.Sub(&p.Requests)
	ni.NonZeroRequested.Sub(&p.NonZeroRequests)
	if !p.Terminating {
		if p.OwnerUID != "" {
			ni.countOwner(p.Owner, -1)
		}
		ni.countLabelSet(p, -1)
	}
	if len(p.HostPorts) > 0 {
		ni.UsedPorts = ni.UsedPorts[:0]
		for _, q := range ni.Pods {
			ni.UsedPorts = append(ni.UsedPorts, q.HostPorts...)
		}
	}
	ni.Generation++
	return true
}

// PortsFree reports whether none of ports conflicts with a host port in use on the Node.
func (ni *NodeInfo) PortsFree(ports []HostPort) bool {
	for _, want := range ports {
		for _, used := range ni.UsedPorts {
			if want.conflicts(used) {
				return false
			}
		}
	}
	return true
}

// Clone returns a copy of ni that can be changed without changing ni. The Pods themselves
// are shared (they are immutable).
func (ni *NodeInfo) Clone() *NodeInfo {
	c := *ni
	c.Pods = slices.Clone(ni.Pods)
	c.UsedPorts = slices.Clone(ni.UsedPorts)
	c.Allocatable = ni.Allocatable.Clone()
	c.Requested = ni.Requested.Clone()
	c.NonZeroRequested = ni.NonZeroRequested.Clone()
	c.owners = slices.Clone(ni.owners)
	c.labelSets = slices.Clone(ni.labelSets)
	return &c
}

// Labels are the Node's labels.
func (ni *NodeInfo) Labels() map[string]string { return ni.labels }

// SameLabels reports whether two NodeInfos have the same labels.
func (ni *NodeInfo) SameLabels(o *NodeInfo) bool { return maps.Equal(ni.labels, o.labels) }
