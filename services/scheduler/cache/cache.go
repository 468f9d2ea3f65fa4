package cache

import (
	"fmt"
	"sync"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	"github.com/berth-dev/berth/services/scheduler/framework"
)

// Cache is the scheduler's view of Nodes and of the Pods on them, bound or assumed. It is
// safe for concurrent use.
type Cache struct {
	mu sync.Mutex
	// nodes holds every Node with an object or with Pods.
	nodes map[string]*nodeItem
	// head is the most recently changed Node; items are linked from newest to oldest.
	head *nodeItem
	// generation counts changes; each item records the generation of its last change.
	generation int64
	// numNodes counts the items with a Node object.
	numNodes int
	// order is the zone-interleaved order of the Nodes with objects; orderGen counts its changes.
	order    []string
	orderGen int64
	pods     map[string]*podState // by uid
}

type nodeItem struct {
	info       *framework.NodeInfo
	generation int64
	prev, next *nodeItem
}

type podState struct {
	pod *framework.PodInfo
	// assumed is true from AssumePod until the informer shows the Pod bound.
	assumed bool
	// bindingFinished is set by FinishBinding.
	bindingFinished bool
}

// New returns an empty cache.
func New() *Cache {
	return &Cache{nodes: map[string]*nodeItem{}, pods: map[string]*podState{}}
}

// touch records a change of item: a new generation, and first place in the list.
func (c *Cache) touch(item *nodeItem) {
	c.generation++
	item.generation = c.generation
	if c.head == item {
		return
	}
	if item.prev != nil {
		item.prev.next = item.next
	}
	if item.next != nil {
		item.next.prev = item.prev
	}
	item.prev, item.next = nil, c.head
	if c.head != nil {
		c.head.prev = item
	}
	c.head = item
}

func (c *Cache) unlink(item *nodeItem) {
	if item.prev != nil {
		item.prev.next = item.next
	}
	if item.next != nil {
		item.next.prev = item.prev
	}
	if c.head == item {
		c.head = item.next
	}
	item.prev, item.next = nil, nil
}

// item returns the item of a Node, creating an empty one (a Node not seen yet) if needed.
func (c *Cache) item(name string) *nodeItem {
	it, ok := c.nodes[name]
	if !ok {
		it = &nodeItem{info: &framework.NodeInfo{Name: name}}
		c.nodes[name] = it
	}
	return it
}

// removeIfEmpty forgets an item that has neither a Node object nor Pods.
func (c *Cache) removeIfEmpty(it *nodeItem) {
	if it.info.Node == nil && len(it.info.Pods) == 0 {
		c.unlink(it)
		delete(c.nodes, it.info.Name)
	}
}

func (c *Cache) rebuildOrder() {
	names := make([]string, 0, c.numNodes)
	zones := make(map[string]string, c.numNodes)
	for name, it := range c.nodes {
		if it.info.Node != nil {
			names = append(names, name)
			zones[name] = it.info.Zone
		}
	}
	c.order = framework.InterleaveZones(names, zones)
	c.orderGen++
}

// AddNode adds a Node, or updates it when the cache has it.
func (c *Cache) AddNode(node *corev1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it := c.item(node.GetMetadata().GetName())
	had := it.info.Node != nil
	oldZone := it.info.Zone
	it.info.SetNode(node)
	if !had {
		c.numNodes++
	}
	if !had || oldZone != it.info.Zone {
		c.rebuildOrder()
	}
	c.touch(it)
}

// UpdateNode replaces a Node's object.
func (c *Cache) UpdateNode(node *corev1.Node) { c.AddNode(node) }

// RemoveNode removes a Node. Its Pods stay accounted (on a Node without object, which no
// snapshot shows) until they are removed too.
func (c *Cache) RemoveNode(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.nodes[name]
	if !ok || it.info.Node == nil {
		return
	}
	it.info.Node = nil
	it.info.Generation++
	c.numNodes--
	c.rebuildOrder()
	c.touch(it)
	c.removeIfEmpty(it)
}

func (c *Cache) addPodLocked(p *framework.PodInfo, assumed bool) {
	it := c.item(p.NodeName)
	it.info.AddPod(p)
	c.touch(it)
	c.pods[p.UID] = &podState{pod: p, assumed: assumed}
}

func (c *Cache) removePodLocked(ps *podState) {
	if it, ok := c.nodes[ps.pod.NodeName]; ok {
		it.info.RemovePod(ps.pod.UID)
		c.touch(it)
		c.removeIfEmpty(it)
	}
	delete(c.pods, ps.pod.UID)
}

// AssumePod places a Pod on p.NodeName before its binding is confirmed, so that it counts at
// once. It fails when the cache has the Pod already.
func (c *Cache) AssumePod(p *framework.PodInfo) error {
	if p.NodeName == "" {
		return fmt.Errorf("assume pod %s: no node", p.Key)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pods[p.UID]; ok {
		return fmt.Errorf("assume pod %s: it is in the cache already", p.Key)
	}
	c.addPodLocked(p, true)
	return nil
}

// FinishBinding records that the binding call of an assumed Pod succeeded; the Pod stays
// assumed until AddPod confirms it.
func (c *Cache) FinishBinding(p *framework.PodInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[p.UID]; ok && ps.assumed {
		ps.bindingFinished = true
	}
}

// ForgetPod removes an assumed Pod whose binding failed.
func (c *Cache) ForgetPod(p *framework.PodInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[p.UID]; ok && ps.assumed {
		c.removePodLocked(ps)
	}
}

// IsAssumed reports whether the Pod with uid is assumed and not yet confirmed.
func (c *Cache) IsAssumed(uid string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[uid]
	return ok && ps.assumed
}

// AddPod adds a bound Pod (p.NodeName set), confirming its assumption if there was one; a
// Pod the cache has is updated.
func (c *Cache) AddPod(p *framework.PodInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[p.UID]; ok {
		c.removePodLocked(ps)
	}
	c.addPodLocked(p, false)
}

// UpdatePod replaces a bound Pod.
func (c *Cache) UpdatePod(p *framework.PodInfo) { c.AddPod(p) }

// RemovePod removes a Pod (deleted, or finished: it no longer uses its Node).
func (c *Cache) RemovePod(uid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[uid]; ok {
		c.removePodLocked(ps)
	}
}

// Counts returns the number of Nodes (with objects) and of Pods (bound and assumed).
func (c *Cache) Counts() (nodes, pods, assumed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ps := range c.pods {
		if ps.assumed {
			assumed++
		}
	}
	return c.numNodes, len(c.pods), assumed
}

// NodeInfo returns a copy of a Node's info, for tests and debugging.
func (c *Cache) NodeInfo(name string) (*framework.NodeInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.nodes[name]
	if !ok {
		return nil, false
	}
	return it.info.Clone(), true
}

// UpdateSnapshot brings snap up to date with the cache, copying only the Nodes changed
// since snap's generation. snap must be one the cache alone updates (start from
// &framework.Snapshot{}).
func (c *Cache) UpdateSnapshot(snap *framework.Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if snap.ByName == nil {
		snap.ByName = map[string]*framework.NodeInfo{}
	}
	relist := snap.Order != c.orderGen
	for it := c.head; it != nil && it.generation > snap.Generation; it = it.next {
		name := it.info.Name
		if it.info.Node == nil {
			if _, ok := snap.ByName[name]; ok {
				delete(snap.ByName, name)
				relist = true
			}
			continue
		}
		clone := it.info.Clone()
		if existing, ok := snap.ByName[name]; ok {
			if !existing.SameLabels(clone) {
				snap.LabelsGeneration++
			}
			// Nodes holds the same pointer: update it in place, keeping its place.
			clone.Index = existing.Index
			*existing = *clone
		} else {
			snap.ByName[name] = clone
			relist = true
		}
	}
	if len(snap.ByName) > c.numNodes {
		for name := range snap.ByName {
			if it, ok := c.nodes[name]; !ok || it.info.Node == nil {
				delete(snap.ByName, name)
			}
		}
		relist = true
	}
	if relist {
		nodes := make([]*framework.NodeInfo, 0, len(c.order))
		for _, name := range c.order {
			nodes = append(nodes, snap.ByName[name])
		}
		snap.Nodes = nodes
		snap.Order = c.orderGen
		snap.Reindex()
	}
	snap.Generation = c.generation
}
