package replicaset

import (
	"maps"
	"time"

	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/berth-dev/berth/pkg/controllerref"
	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/scheme"
	"github.com/berth-dev/berth/pkg/selector"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// indexOrphans indexes the Pods without a ControllerRef by namespace, the Pods an owner may
// adopt.
const indexOrphans = "replicaset.orphans"

func orphanIndex(obj scheme.Object) []string {
	if controllerref.Of(obj) != nil {
		return nil
	}
	return []string{obj.GetMetadata().GetNamespace()}
}

// podHandler turns Pod changes into owner keys, and tells the expectations what it saw.
type podHandler struct{ r *Controller }

// OnAdd: a new Pod is a create its owner may expect; an orphan wakes the owners that select
// it. A Pod that shows up already deleting is a deletion.
func (h podHandler) OnAdd(obj scheme.Object) {
	pod := obj.(*corev1.Pod)
	if pod.GetMetadata().GetDeletionTimestamp() != nil {
		h.OnDelete(obj)
		return
	}
	if ref := controllerref.Of(pod); ref != nil {
		if key, ok := h.r.resolve(pod.GetMetadata().GetNamespace(), ref); ok {
			h.r.expect.creationObserved(key)
			h.r.ctrl.Enqueue(key)
		}
		return
	}
	for _, key := range h.r.selecting(pod) {
		h.r.ctrl.Enqueue(key)
	}
}

// OnUpdate wakes the Pod's owner, its old owner when the ControllerRef changed, and the owners
// that select it when it is an orphan whose labels or ControllerRef changed.
func (h podHandler) OnUpdate(oldObj, obj scheme.Object) {
	old, cur := oldObj.(*corev1.Pod), obj.(*corev1.Pod)
	labelsChanged := !maps.Equal(old.GetMetadata().GetLabels(), cur.GetMetadata().GetLabels())
	if cur.GetMetadata().GetDeletionTimestamp() != nil {
		// A graceful deletion: count it now rather than when the Pod is finally gone, so the
		// owner replaces it at once. The old labels' owners may want it too.
		h.OnDelete(cur)
		if labelsChanged {
			h.OnDelete(old)
		}
		return
	}
	curRef, oldRef := controllerref.Of(cur), controllerref.Of(old)
	refChanged := !proto.Equal(curRef, oldRef)
	ns := cur.GetMetadata().GetNamespace()
	if refChanged && oldRef != nil {
		if key, ok := h.r.resolve(ns, oldRef); ok {
			h.r.ctrl.Enqueue(key)
		}
	}
	if curRef != nil {
		key, ok := h.r.resolve(ns, curRef)
		if !ok {
			return
		}
		h.r.ctrl.Enqueue(key)
		if !isReady(old) && isReady(cur) {
			if rs := h.r.owner(key); rs != nil && rs.GetSpec().GetMinReadySeconds() > 0 {
				// Look again once it is due to be available.
				h.r.ctrl.EnqueueAfter(key, time.Duration(rs.GetSpec().GetMinReadySeconds())*time.Second+time.Second)
			}
		}
		return
	}
	if labelsChanged || refChanged {
		for _, key := range h.r.selecting(cur) {
			h.r.ctrl.Enqueue(key)
		}
	}
}

// OnDelete: a Pod gone (or going) is a deletion its owner may expect.
func (h podHandler) OnDelete(obj scheme.Object) {
	pod := obj.(*corev1.Pod)
	ref := controllerref.Of(pod)
	if ref == nil {
		return // an orphan going away changes no owner's count
	}
	if key, ok := h.r.resolve(pod.GetMetadata().GetNamespace(), ref); ok {
		h.r.expect.deletionObserved(key, informer.KeyOf(pod))
		h.r.ctrl.Enqueue(key)
	}
}

// resolve returns the key of the owner a ControllerRef names, when it is of this controller's
// kind and in its cache with the same uid.
func (r *Controller) resolve(namespace string, ref *metav1.OwnerReference) (string, bool) {
	if ref.GetKind() != r.kind.res.Kind {
		return "", false
	}
	key := scheme.Key(namespace, ref.GetName())
	obj, ok := r.owners.Store().Get(key)
	if !ok || obj.GetMetadata().GetUid() != ref.GetUid() {
		return "", false
	}
	return key, true
}

// owner returns the cached owner of key viewed as a ReplicaSet, or nil.
func (r *Controller) owner(key string) *appsv1.ReplicaSet {
	obj, ok := r.owners.Store().Get(key)
	if !ok {
		return nil
	}
	return r.kind.asReplicaSet(obj)
}

// selecting returns the keys of the owners in the Pod's namespace whose selector matches it.
func (r *Controller) selecting(pod *corev1.Pod) []string {
	md := pod.GetMetadata()
	if len(md.GetLabels()) == 0 {
		return nil // a selector never matches a Pod without labels
	}
	owners, err := r.owners.Store().ByIndex(informer.IndexNamespace, md.GetNamespace())
	if err != nil {
		return nil
	}
	var keys []string
	set := labels.Set(md.GetLabels())
	for _, o := range owners {
		sel, err := selector.Parse(r.kind.asReplicaSet(o).GetSpec().GetSelector())
		if err != nil || sel.Empty() {
			continue // an empty selector would match every Pod: Kubernetes skips it here
		}
		if sel.Matches(set) {
			keys = append(keys, informer.KeyOf(o))
		}
	}
	return keys
}
