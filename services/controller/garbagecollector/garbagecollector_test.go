package garbagecollector_test

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/controller/controllertest"
)

const hold = "example.com/hold"

func TestBackgroundDeletionCollectsDependents(t *testing.T) {
	e := setup(t)
	rs := e.replicaSet("default", "web")
	pods := e.pods(rs, "web", 3)
	other := e.replicaSet("default", "other")
	kept := e.pods(other, "other", 1)

	e.delete(rs, "Background")
	if !e.gone(rs) {
		t.Fatal("a Background delete must remove the owner at once")
	}
	controllertest.Eventually(t, "the ReplicaSet's Pods to be collected", func() bool { return allGone(e, pods) })
	if e.gone(kept[0]) {
		t.Error("the Pod of another ReplicaSet was collected")
	}
}

func TestForegroundDeletionWaitsForBlockingDependents(t *testing.T) {
	e := newEnv(t)
	rs := e.replicaSet("default", "web")
	pods := e.pods(rs, "web", 2)
	// A blocking dependent that lingers (a finalizer holds it), and one that does not block.
	held := e.pod("default", "held", []string{hold}, ref(rs, true, true))
	loose := e.pod("default", "loose", []string{hold}, ref(rs, false, false))

	e.startGC() // once the dependents exist (see startGC)
	e.delete(rs, "Foreground")
	controllertest.Eventually(t, "the dependents to be deleted", func() bool {
		return allGone(e, pods) &&
			e.get(scheme.Pods, "default", "held").GetMetadata().GetDeletionTimestamp() != nil &&
			e.get(scheme.Pods, "default", "loose").GetMetadata().GetDeletionTimestamp() != nil
	})
	live := e.get(scheme.ReplicaSets, "default", "web")
	if live == nil || live.GetMetadata().GetDeletionTimestamp() == nil || !slices.Contains(live.GetMetadata().GetFinalizers(), "foregroundDeletion") {
		t.Fatalf("the ReplicaSet must wait, deleting with the foregroundDeletion finalizer, for its blocking Pod: %v", live.GetMetadata())
	}

	e.removeFinalizer(held, hold)
	controllertest.Eventually(t, "the ReplicaSet to go once its blocking Pod is gone", func() bool { return e.gone(rs) })
	if e.gone(loose) {
		t.Error("the non-blocking Pod went although its finalizer holds it")
	}
	e.removeFinalizer(loose, hold)
	controllertest.Eventually(t, "the non-blocking Pod to go", func() bool { return e.gone(loose) })
}

// TestForegroundDeletionReleasesSharedDependents: a dependent with another owner is not
// deleted with its owner in the foreground; it loses the reference to it, which unblocks it.
func TestForegroundDeletionReleasesSharedDependents(t *testing.T) {
	e := newEnv(t)
	rs := e.replicaSet("default", "web")
	other := e.replicaSet("default", "other")
	shared := e.pod("default", "shared", nil, ref(rs, true, true), ref(other, false, false))

	e.startGC() // once the dependents exist (see startGC)
	e.delete(rs, "Foreground")
	controllertest.Eventually(t, "the ReplicaSet to go", func() bool { return e.gone(rs) })
	if uids := e.ownerUIDs(shared); !slices.Equal(uids, []string{other.GetMetadata().GetUid()}) {
		t.Errorf("the shared Pod's owners are %v, want only the other ReplicaSet", uids)
	}
}

func TestOrphanDeletionKeepsDependents(t *testing.T) {
	e := newEnv(t)
	rs := e.replicaSet("default", "web")
	other := e.replicaSet("default", "other")
	pods := e.pods(rs, "web", 3)
	shared := e.pod("default", "shared", nil, ref(rs, true, true), ref(other, false, false))

	e.startGC() // once the dependents exist (see startGC)
	e.delete(rs, "Orphan")
	controllertest.Eventually(t, "the ReplicaSet to go", func() bool { return e.gone(rs) })
	for _, p := range pods {
		if uids := e.ownerUIDs(p); len(uids) != 0 {
			t.Errorf("Pod %s still has ownerReferences %v", p.GetMetadata().GetName(), uids)
		}
	}
	if uids := e.ownerUIDs(shared); !slices.Equal(uids, []string{other.GetMetadata().GetUid()}) {
		t.Errorf("the shared Pod's owners are %v, want only the other ReplicaSet", uids)
	}
}

// TestForegroundDeletionCascadesBottomUp deletes a Deployment → ReplicaSet → Pods chain in the
// foreground: the Pods go first, then the ReplicaSet, then the Deployment, as the deletion
// revisions on a watch show.
func TestForegroundDeletionCascadesBottomUp(t *testing.T) {
	e := newEnv(t)
	d := e.deployment("default", "web")
	rs := e.replicaSet("default", "web-5d4f8", ref(d, true, true))
	pods := e.pods(rs, "web-5d4f8", 3)
	held := e.pod("default", "held", []string{hold}, ref(rs, true, true))
	pods = append(pods, held)

	e.startGC() // once the dependents exist (see startGC)
	var mu sync.Mutex
	deleted := map[string]int64{} // kind/name → deletion revision
	watch := func(r *scheme.Resource) {
		w, err := e.c.Resource(r).Watch(e.ctx, &metav1.ListOptions{Namespace: "default", ResourceVersion: d.GetMetadata().GetResourceVersion()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
		go func() {
			for {
				ev, err := w.Next()
				if err != nil {
					return
				}
				if ev.Type == client.Deleted {
					rev, _ := strconv.ParseInt(ev.Object.GetMetadata().GetResourceVersion(), 10, 64)
					mu.Lock()
					deleted[r.Kind+"/"+ev.Object.GetMetadata().GetName()] = rev
					mu.Unlock()
				}
			}
		}()
	}
	watch(scheme.Pods)
	watch(scheme.ReplicaSets)
	watch(scheme.Deployments)

	e.delete(d, "Foreground")
	controllertest.Eventually(t, "the ReplicaSet to be deleted in the foreground", func() bool {
		live := e.get(scheme.ReplicaSets, "default", "web-5d4f8")
		return live != nil && slices.Contains(live.GetMetadata().GetFinalizers(), "foregroundDeletion") &&
			e.get(scheme.Pods, "default", "held").GetMetadata().GetDeletionTimestamp() != nil
	})
	if e.gone(d) {
		t.Fatal("the Deployment went before its ReplicaSet")
	}
	e.removeFinalizer(held, hold)
	controllertest.Eventually(t, "the Deployment to go", func() bool { return e.gone(d) })
	controllertest.Eventually(t, "the watches to see every deletion", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(deleted) == len(pods)+2
	})
	mu.Lock()
	defer mu.Unlock()
	rsRev, dRev := deleted["ReplicaSet/web-5d4f8"], deleted["Deployment/web"]
	for _, p := range pods {
		if rev := deleted["Pod/"+p.GetMetadata().GetName()]; rev >= rsRev {
			t.Errorf("Pod %s deleted at revision %d, not before its ReplicaSet (%d)", p.GetMetadata().GetName(), rev, rsRev)
		}
	}
	if rsRev >= dRev {
		t.Errorf("ReplicaSet deleted at revision %d, not before its Deployment (%d)", rsRev, dRev)
	}
}

func TestDependentWithAnotherOwnerLoses(t *testing.T) {
	e := setup(t)
	a := e.replicaSet("default", "a")
	b := e.replicaSet("default", "b")
	p := e.pod("default", "shared", nil, ref(a, true, true), ref(b, false, false))

	e.delete(a, "Background")
	controllertest.Eventually(t, "the dangling ownerReference to be removed", func() bool {
		return slices.Equal(e.ownerUIDs(p), []string{b.GetMetadata().GetUid()})
	})
	if e.gone(p) {
		t.Fatal("a Pod with an owner left was collected")
	}
}

// TestOwnersThatNeverExisted collects a dependent whose owner uid never existed, even when
// an object of that name exists with another uid.
func TestOwnersThatNeverExisted(t *testing.T) {
	e := setup(t)
	impostor := e.replicaSet("default", "impostor")
	never := &metav1.OwnerReference{ApiVersion: "apps/v1", Kind: "ReplicaSet", Name: "never", Uid: uuid.NewString()}
	renamed := &metav1.OwnerReference{ApiVersion: "apps/v1", Kind: "ReplicaSet", Name: "impostor", Uid: uuid.NewString()}
	p1 := e.pod("default", "orphan-1", nil, never)
	p2 := e.pod("default", "orphan-2", nil, renamed)
	controllertest.Eventually(t, "the dependents of owners that never existed to go", func() bool { return e.gone(p1) && e.gone(p2) })
	if e.gone(impostor) {
		t.Fatal("the object whose name a dangling reference used was deleted")
	}
}

// TestDependentOfANewOwnerIsKept creates owners and their dependents back to back, racing the
// informers: the collector must confirm an owner is absent before collecting. A dependent of
// an owner that never existed, created after them all, tells when the collector has looked.
func TestDependentOfANewOwnerIsKept(t *testing.T) {
	e := setup(t)
	var kept []*corev1.Pod
	for i := range 10 {
		cm := e.create(&corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("owner-%d", i)}})
		kept = append(kept, e.pod("default", fmt.Sprintf("dependent-%d", i), nil, ref(cm, true, true)))
	}
	rs := e.replicaSet("default", "fresh")
	kept = append(kept, e.pods(rs, "fresh", 3)...)
	sentinel := e.pod("default", "sentinel", nil, &metav1.OwnerReference{ApiVersion: "v1", Kind: "ConfigMap", Name: "nope", Uid: uuid.NewString()})
	controllertest.Eventually(t, "the sentinel to be collected", func() bool { return e.gone(sentinel) })
	for _, p := range kept {
		if e.gone(p) {
			t.Errorf("Pod %s was collected although its owner exists", p.GetMetadata().GetName())
		}
	}
}

func TestNodeLeaseGoesWithTheNode(t *testing.T) {
	e := setup(t)
	node := e.create(&corev1.Node{Metadata: &metav1.ObjectMeta{Name: "node-1"}})
	holder := "node-1"
	lease := e.create(&coordinationv1.Lease{
		Metadata: &metav1.ObjectMeta{Namespace: "kube-node-lease", Name: "node-1", OwnerReferences: []*metav1.OwnerReference{ref(node, false, false)}},
		Spec:     &coordinationv1.LeaseSpec{HolderIdentity: &holder},
	})
	other := e.create(&coordinationv1.Lease{Metadata: &metav1.ObjectMeta{Namespace: "kube-node-lease", Name: "node-2"}, Spec: &coordinationv1.LeaseSpec{HolderIdentity: &holder}})

	e.delete(node, "")
	controllertest.Eventually(t, "the Node's Lease to go", func() bool { return e.gone(lease) })
	if e.gone(other) {
		t.Error("a Lease without owner was deleted")
	}
}

// TestStartCatchesUp starts the collector after owners were deleted: it acts on what it finds
// once every informer has synced, and leaves alone the dependents of owners that exist.
func TestStartCatchesUp(t *testing.T) {
	e := newEnv(t)
	kept := e.replicaSet("default", "kept")
	keptPods := e.pods(kept, "kept", 3)
	bg := e.replicaSet("default", "bg")
	bgPods := e.pods(bg, "bg", 3)
	fg := e.replicaSet("default", "fg")
	fgPods := e.pods(fg, "fg", 3)
	e.delete(bg, "Background")
	e.delete(fg, "Foreground")

	e.startGC()
	controllertest.Eventually(t, "the dependents of the deleted owners to go", func() bool {
		return allGone(e, bgPods) && allGone(e, fgPods) && e.gone(fg)
	})
	for _, p := range keptPods {
		if e.gone(p) {
			t.Errorf("Pod %s of an existing owner was collected", p.GetMetadata().GetName())
		}
	}
}
