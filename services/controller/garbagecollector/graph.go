package garbagecollector

import (
	"fmt"
	"slices"
	"sync"

	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-dev/berth/pkg/scheme"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// Finalizers the garbage collector acts on (the apiserver adds them for a delete with
// propagationPolicy Orphan or Foreground).
const (
	FinalizerOrphan     = kmetav1.FinalizerOrphanDependents // "orphan"
	FinalizerForeground = kmetav1.FinalizerDeleteDependents // "foregroundDeletion"
)

// objectRef identifies an object of the graph.
type objectRef struct {
	// res is the object's resource; nil when Berth serves no such kind (an ownerReference
	// may name anything).
	res             *scheme.Resource
	apiVersion      string
	kind            string
	namespace, name string
	uid             string
}

// String formats the reference as Kubernetes' garbage collector logs it.
func (r objectRef) String() string {
	return fmt.Sprintf("[%s/%s, namespace: %s, name: %s, uid: %s]", r.apiVersion, r.kind, r.namespace, r.name, r.uid)
}

// node is one object of the graph.
type node struct {
	ref objectRef
	// observed is false for a virtual node: an owner known only from ownerReferences.
	observed   bool
	deleting   bool // has a deletionTimestamp
	finalizers []string
	// owners are the object's ownerReferences, as the informer's cache holds them (shared:
	// never modified).
	owners     []*metav1.OwnerReference
	dependents map[string]struct{} // uids
}

func (n *node) hasFinalizer(f string) bool { return slices.Contains(n.finalizers, f) }

// deletingDependents reports a Foreground deletion in progress.
func (n *node) deletingDependents() bool { return n.deleting && n.hasFinalizer(FinalizerForeground) }

// orphaning reports an Orphan deletion in progress.
func (n *node) orphaning() bool { return n.deleting && n.hasFinalizer(FinalizerOrphan) }

// ownerRef returns n's ownerReference to uid, or nil.
func (n *node) ownerRef(uid string) *metav1.OwnerReference {
	for _, r := range n.owners {
		if r.GetUid() == uid {
			return r
		}
	}
	return nil
}

// graph is the owner/dependent graph by uid. Informer handlers change it through observe and
// forget; reconciles read it through view and owner. enqueue is told of every uid to
// reconcile.
type graph struct {
	mu      sync.Mutex
	nodes   map[string]*node
	enqueue func(uid string)
}

func newGraph(enqueue func(uid string)) *graph {
	return &graph{nodes: map[string]*node{}, enqueue: enqueue}
}

// observe records obj, of resource res, as an informer saw it added or updated.
func (g *graph) observe(res *scheme.Resource, obj scheme.Object) {
	md := obj.GetMetadata()
	uid := md.GetUid()
	if uid == "" {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.nodes[uid]
	if n == nil {
		n = &node{dependents: map[string]struct{}{}}
		g.nodes[uid] = n
	}
	oldOwners := n.owners
	n.ref = objectRef{res: res, apiVersion: res.APIVersion(), kind: res.Kind, namespace: md.GetNamespace(), name: md.GetName(), uid: uid}
	n.observed = true
	n.deleting = md.GetDeletionTimestamp() != nil
	n.finalizers = md.GetFinalizers()
	n.owners = md.GetOwnerReferences()

	for _, old := range oldOwners {
		if n.ownerRef(old.GetUid()) != nil {
			continue
		}
		g.removeDependent(old.GetUid(), uid)
	}
	requeueSelf := false
	for _, ref := range n.owners {
		ouid := ref.GetUid()
		if ouid == "" || ouid == uid {
			continue
		}
		o := g.nodes[ouid]
		if o == nil {
			// An owner not seen (yet): a virtual node, which a reconcile confirms or removes
			// through a live GET.
			o = &node{ref: virtualRef(ref, md.GetNamespace()), dependents: map[string]struct{}{}}
			g.nodes[ouid] = o
			g.enqueue(ouid)
		}
		o.dependents[uid] = struct{}{}
		if o.deletingDependents() {
			requeueSelf = true
			if old := findRef(oldOwners, ouid); old.GetBlockOwnerDeletion() && !ref.GetBlockOwnerDeletion() {
				g.enqueue(ouid) // unblocked: the owner may be done waiting
			}
		}
	}
	if n.orphaning() || n.deletingDependents() {
		requeueSelf = true
	}
	if n.deletingDependents() {
		for d := range n.dependents {
			g.enqueue(d)
		}
	}
	if requeueSelf {
		g.enqueue(uid)
	}
}

// forget removes obj, which an informer saw deleted, and enqueues what that may concern: its
// dependents (their owner is gone) and its owners waiting for their dependents.
func (g *graph) forget(obj scheme.Object) {
	uid := obj.GetMetadata().GetUid()
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.nodes[uid]
	if n == nil || !n.observed {
		return
	}
	delete(g.nodes, uid)
	for _, ref := range n.owners {
		g.removeDependent(ref.GetUid(), uid)
	}
	for d := range n.dependents {
		g.enqueue(d)
	}
}

// removeDependent removes dependent from owner's dependents; an owner waiting for its
// dependents is enqueued, and a virtual owner left with no dependents is dropped.
// g.mu must be held.
func (g *graph) removeDependent(owner, dependent string) {
	o := g.nodes[owner]
	if o == nil {
		return
	}
	delete(o.dependents, dependent)
	switch {
	case o.deletingDependents():
		g.enqueue(owner)
	case !o.observed && len(o.dependents) == 0:
		delete(g.nodes, owner)
	}
}

// removeVirtual drops the virtual node uid, confirmed absent, and enqueues its dependents. It
// does nothing when an informer has seen uid meanwhile.
func (g *graph) removeVirtual(uid string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.nodes[uid]
	if n == nil || n.observed {
		return
	}
	delete(g.nodes, uid)
	for d := range n.dependents {
		g.enqueue(d)
	}
}

// virtualRef is the reference of an owner known only from ref, an ownerReference of an object
// in namespace ns: the owner is in ns, or cluster-scoped.
func virtualRef(ref *metav1.OwnerReference, ns string) objectRef {
	r := objectRef{apiVersion: ref.GetApiVersion(), kind: ref.GetKind(), namespace: ns, name: ref.GetName(), uid: ref.GetUid()}
	if res, err := scheme.ForKind(r.apiVersion, r.kind); err == nil {
		r.res = res
		if !res.Namespaced {
			r.namespace = ""
		}
	}
	return r
}

func findRef(refs []*metav1.OwnerReference, uid string) *metav1.OwnerReference {
	for _, r := range refs {
		if r.GetUid() == uid {
			return r
		}
	}
	return nil
}

// dependentView is what a reconcile knows of one dependent of a node.
type dependentView struct {
	ref                objectRef
	deleting           bool
	deletingDependents bool
	// blocking tells whether the dependent's ownerReference to the node has
	// blockOwnerDeletion: true.
	blocking bool
}

// view is a copy of a node for a reconcile, safe to read without the graph's lock.
type view struct {
	ref        objectRef
	observed   bool
	deleting   bool
	finalizers []string
	owners     []*metav1.OwnerReference
	dependents []dependentView
}

func (v view) hasFinalizer(f string) bool { return slices.Contains(v.finalizers, f) }

// view returns a copy of the node uid.
func (g *graph) view(uid string) (view, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.nodes[uid]
	if n == nil {
		return view{}, false
	}
	v := view{ref: n.ref, observed: n.observed, deleting: n.deleting, finalizers: n.finalizers, owners: n.owners}
	for d := range n.dependents {
		dn := g.nodes[d]
		if dn == nil {
			continue
		}
		v.dependents = append(v.dependents, dependentView{
			ref: dn.ref, deleting: dn.deleting, deletingDependents: dn.deletingDependents(),
			blocking: dn.ownerRef(uid).GetBlockOwnerDeletion(),
		})
	}
	return v, true
}

// ownerState is what the graph knows of an owner.
type ownerState int

const (
	// ownerUnknown: not seen by an informer; only a live GET can tell.
	ownerUnknown ownerState = iota
	// ownerPresent: seen by an informer and not waiting for its dependents.
	ownerPresent
	// ownerWaiting: seen by an informer, being deleted in the foreground.
	ownerWaiting
)

// owner tells what the graph knows of the object uid as an owner.
func (g *graph) owner(uid string) ownerState {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.nodes[uid]
	switch {
	case n == nil || !n.observed:
		return ownerUnknown
	case n.deletingDependents():
		return ownerWaiting
	default:
		return ownerPresent
	}
}

// len is the number of nodes, virtual ones included.
func (g *graph) len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.nodes)
}
