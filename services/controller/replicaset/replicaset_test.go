package replicaset_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/controller/controllertest"
)

func TestReplicaSetCreatesAndReplacesPods(t *testing.T) {
	c, ctx := setup(t)
	labels := map[string]string{"app": "web"}
	rs := createRS(t, ctx, c, newRS("web", 3, labels))
	uid := rs.GetMetadata().GetUid()
	pods := waitPods(t, ctx, c, uid, 3)
	for _, p := range pods {
		md := p.GetMetadata()
		if !strings.HasPrefix(md.GetName(), "web-") || md.GetGenerateName() != "web-" {
			t.Errorf("pod %s: generateName %q, want web-", md.GetName(), md.GetGenerateName())
		}
		if !maps.Equal(md.GetLabels(), labels) || md.GetAnnotations()["note"] != "from-template" {
			t.Errorf("pod %s: labels %v annotations %v, want the template's", md.GetName(), md.GetLabels(), md.GetAnnotations())
		}
		refs := md.GetOwnerReferences()
		if len(refs) != 1 {
			t.Fatalf("pod %s: ownerReferences %v, want one", md.GetName(), refs)
		}
		want := &metav1.OwnerReference{ApiVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", Uid: uid, Controller: proto.Bool(true), BlockOwnerDeletion: proto.Bool(true)}
		if !proto.Equal(refs[0], want) {
			t.Errorf("pod %s: ownerReference %v, want %v", md.GetName(), refs[0], want)
		}
	}
	controllertest.Eventually(t, "status of 3 replicas", func() bool {
		st := getRS(t, ctx, c, "web").GetStatus()
		return st.GetReplicas() == 3 && st.GetFullyLabeledReplicas() == 3 && st.GetObservedGeneration() == rs.GetMetadata().GetGeneration()
	})
	controllertest.Eventually(t, "SuccessfulCreate events", func() bool {
		evs := eventsFor(t, ctx, c, "web")
		for _, p := range pods {
			if !hasEvent(evs, "Normal", "SuccessfulCreate", "Created pod: "+p.GetMetadata().GetName()) {
				return false
			}
		}
		return true
	})

	victim := pods[1].GetMetadata().GetName()
	if _, err := c.Resource(scheme.Pods).Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: victim}); err != nil {
		t.Fatal(err)
	}
	var after []*corev1.Pod
	controllertest.Eventually(t, "a replacement", func() bool {
		after = activePods(t, ctx, c, uid)
		return len(after) == 3 && !slices.Contains(names(after), victim)
	})
	if all := allPods(t, ctx, c); len(all) != 3 {
		t.Errorf("namespace holds pods %v, want 3", names(all))
	}
}

func TestScaleDeletesLeastValuablePodsFirst(t *testing.T) {
	c, ctx := setup(t)
	rs := createRS(t, ctx, c, newRS("api", 3, map[string]string{"app": "api"}))
	uid := rs.GetMetadata().GetUid()
	pods := waitPods(t, ctx, c, uid, 3)
	// ready: bound, Running and Ready; running: bound, Running, not ready; the rest unbound.
	ready, running := pods[0].GetMetadata().GetName(), pods[1].GetMetadata().GetName()
	bind(t, ctx, c, ready, "node-1")
	bind(t, ctx, c, running, "node-2")
	kubelet(t, ctx, c, ready, true, time.Now())
	kubelet(t, ctx, c, running, false, time.Now())

	scale(t, ctx, c, scheme.ReplicaSets, "api", 5)
	waitPods(t, ctx, c, uid, 5)
	controllertest.Eventually(t, "status of 5 replicas and 1 ready", func() bool {
		st := getRS(t, ctx, c, "api").GetStatus()
		return st.GetReplicas() == 5 && st.GetReadyReplicas() == 1 && st.GetAvailableReplicas() == 1
	})

	scale(t, ctx, c, scheme.ReplicaSets, "api", 2)
	left := waitPods(t, ctx, c, uid, 2)
	if got, want := names(left), []string{ready, running}; !sameSet(got, want) {
		t.Errorf("after scaling to 2, pods %v remain, want the assigned ones %v", got, want)
	}
	scale(t, ctx, c, scheme.ReplicaSets, "api", 1)
	left = waitPods(t, ctx, c, uid, 1)
	if got := names(left); got[0] != ready {
		t.Errorf("after scaling to 1, pod %v remains, want the ready one %s", got, ready)
	}
	controllertest.Eventually(t, "status of 1 replica", func() bool {
		st := getRS(t, ctx, c, "api").GetStatus()
		return st.GetReplicas() == 1 && st.GetReadyReplicas() == 1
	})
	controllertest.Eventually(t, "a SuccessfulDelete event", func() bool {
		return hasEvent(eventsFor(t, ctx, c, "api"), "Normal", "SuccessfulDelete", "Deleted pod: "+running)
	})
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestAvailableReplicasWaitForMinReadySeconds(t *testing.T) {
	c, ctx := setup(t)
	spec := newRS("slow", 2, map[string]string{"app": "slow"})
	spec.Spec.MinReadySeconds = 2
	rs := createRS(t, ctx, c, spec)
	pods := waitPods(t, ctx, c, rs.GetMetadata().GetUid(), 2)
	readyAt := time.Now().Truncate(time.Second)
	for _, p := range pods {
		kubelet(t, ctx, c, p.GetMetadata().GetName(), true, readyAt)
	}
	controllertest.Eventually(t, "2 ready replicas", func() bool {
		return getRS(t, ctx, c, "slow").GetStatus().GetReadyReplicas() == 2
	})
	st := getRS(t, ctx, c, "slow").GetStatus()
	if time.Now().Before(readyAt.Add(2*time.Second)) && st.GetAvailableReplicas() != 0 {
		t.Errorf("availableReplicas %d before minReadySeconds passed, want 0", st.GetAvailableReplicas())
	}
	controllertest.Eventually(t, "2 available replicas", func() bool {
		return getRS(t, ctx, c, "slow").GetStatus().GetAvailableReplicas() == 2
	})
	if time.Now().Before(readyAt.Add(2 * time.Second)) {
		t.Errorf("pods available before minReadySeconds passed")
	}
}

func TestAdoptsOrphansAndReleasesRelabeledPods(t *testing.T) {
	// The orphan exists before the controllers start, so that their Pod cache holds it when
	// they first see the ReplicaSet. Created while they run, it could reach the Pod cache
	// after the ReplicaSet had made its two Pods: adopted, it would then be a third one.
	c, ctx := controllertest.Start(t)
	pods := c.Resource(scheme.Pods)
	orphan := &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "stray", Labels: map[string]string{"app": "db"}},
		Spec:     template(nil).GetSpec(),
	}
	if _, err := pods.Create(ctx, orphan); err != nil {
		t.Fatal(err)
	}
	startControllers(t, ctx, c, 0)
	spec := newRS("db", 2, map[string]string{"app": "db"})
	spec.Spec.Template.Metadata.Labels = map[string]string{"app": "db", "tier": "data"}
	rs := createRS(t, ctx, c, spec)
	uid := rs.GetMetadata().GetUid()
	got := waitPods(t, ctx, c, uid, 2)
	if !slices.Contains(names(got), "stray") {
		t.Fatalf("pods %v, want the orphan stray adopted", names(got))
	}
	controllertest.Eventually(t, "status counting the orphan as not fully labeled", func() bool {
		st := getRS(t, ctx, c, "db").GetStatus()
		return st.GetReplicas() == 2 && st.GetFullyLabeledReplicas() == 1
	})
	if all := allPods(t, ctx, c); len(all) != 2 {
		t.Errorf("namespace holds pods %v, want 2 (the orphan and one new)", names(all))
	}

	// Relabel the adopted Pod: it is released and replaced.
	obj, err := pods.Get(ctx, "default", "stray")
	if err != nil {
		t.Fatal(err)
	}
	stray := obj.(*corev1.Pod)
	stray.Metadata.Labels = map[string]string{"app": "debug"}
	if _, err := pods.Update(ctx, stray); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "the relabeled pod released", func() bool {
		obj, err := pods.Get(ctx, "default", "stray")
		return err == nil && len(obj.GetMetadata().GetOwnerReferences()) == 0
	})
	got = waitPods(t, ctx, c, uid, 2)
	if slices.Contains(names(got), "stray") {
		t.Errorf("pods %v still hold the released pod", names(got))
	}
}

func TestReplicationController(t *testing.T) {
	c, ctx := setup(t)
	labels := map[string]string{"app": "legacy"}
	obj, err := c.Resource(scheme.ReplicationControllers).Create(ctx, &corev1.ReplicationController{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "legacy"},
		Spec:     &corev1.ReplicationControllerSpec{Selector: labels, Template: template(labels)},
	})
	if err != nil {
		t.Fatal(err)
	}
	uid := obj.GetMetadata().GetUid()
	pods := waitPods(t, ctx, c, uid, 1) // replicas default to 1
	ref := pods[0].GetMetadata().GetOwnerReferences()[0]
	if ref.GetKind() != "ReplicationController" || ref.GetApiVersion() != "v1" || ref.GetName() != "legacy" {
		t.Errorf("ownerReference %v, want the ReplicationController", ref)
	}
	scale(t, ctx, c, scheme.ReplicationControllers, "legacy", 3)
	waitPods(t, ctx, c, uid, 3)
	controllertest.Eventually(t, "status of 3 replicas", func() bool {
		obj, err := c.Resource(scheme.ReplicationControllers).Get(ctx, "default", "legacy")
		if err != nil {
			t.Fatal(err)
		}
		rc := obj.(*corev1.ReplicationController)
		st := rc.GetStatus()
		return st.GetReplicas() == 3 && st.GetFullyLabeledReplicas() == 3 && st.GetObservedGeneration() == rc.GetMetadata().GetGeneration()
	})
	controllertest.Eventually(t, "a SuccessfulCreate event from the replication-controller", func() bool {
		for _, ev := range eventsFor(t, ctx, c, "legacy") {
			if ev.GetReason() == "SuccessfulCreate" && ev.GetSource().GetComponent() == "replication-controller" {
				return true
			}
		}
		return false
	})
}

func TestRefusedPodsFailWithoutHotLoop(t *testing.T) {
	c, ctx := setup(t)
	spec := newRS("bad", 2, map[string]string{"app": "bad"})
	// Accepted in a template, refused in a Pod (422 Invalid), as in Kubernetes.
	spec.Spec.Template.Spec.Containers[0].Image = " berth-testapp:latest"
	createRS(t, ctx, c, spec)
	var cond *appsv1.ReplicaSetCondition
	controllertest.Eventually(t, "the ReplicaFailure condition", func() bool {
		for _, c := range getRS(t, ctx, c, "bad").GetStatus().GetConditions() {
			if c.GetType() == "ReplicaFailure" {
				cond = c
				return true
			}
		}
		return false
	})
	if cond.GetStatus() != "True" || cond.GetReason() != "FailedCreate" || !strings.Contains(cond.GetMessage(), "is invalid") {
		t.Errorf("condition %v, want True, FailedCreate, the apiserver's error", cond)
	}
	controllertest.Eventually(t, "a FailedCreate event", func() bool {
		for _, ev := range eventsFor(t, ctx, c, "bad") {
			if ev.GetType() == "Warning" && ev.GetReason() == "FailedCreate" && strings.HasPrefix(ev.GetMessage(), "Error creating: ") {
				return true
			}
		}
		return false
	})
	// Backoff, not a tight loop: few attempts in two seconds.
	time.Sleep(2 * time.Second)
	var attempts int32
	for _, ev := range eventsFor(t, ctx, c, "bad") {
		if ev.GetReason() == "FailedCreate" {
			attempts += ev.GetCount()
		}
	}
	if attempts > 20 {
		t.Errorf("%d failed creates in about two seconds, want a backoff", attempts)
	}
	if n := len(allPods(t, ctx, c)); n != 0 {
		t.Errorf("%d pods exist, want none", n)
	}

	// Fixing the template clears the condition.
	rs := getRS(t, ctx, c, "bad")
	rs.Spec.Template.Spec.Containers[0].Image = "berth-testapp:latest"
	if _, err := c.Resource(scheme.ReplicaSets).Update(ctx, rs); err != nil {
		t.Fatal(err)
	}
	waitPods(t, ctx, c, rs.GetMetadata().GetUid(), 2)
	controllertest.Eventually(t, "the condition cleared", func() bool {
		st := getRS(t, ctx, c, "bad").GetStatus()
		return len(st.GetConditions()) == 0 && st.GetReplicas() == 2
	})
}

func TestNeverCreatesOrDeletesMoreThanAsked(t *testing.T) {
	// A Pod cache some 200 events behind: without expectations the controller would see too
	// few Pods after its creates, and too many after its deletes.
	c, ctx := setupLagging(t, 3*time.Millisecond)
	w, err := c.Resource(scheme.Pods).Watch(ctx, &metav1.ListOptions{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	type counts struct{ added, deleted int }
	seen := make(chan counts, 1)
	seen <- counts{}
	go func() {
		for {
			ev, err := w.Next()
			if err != nil {
				return
			}
			n := <-seen
			switch ev.Type {
			case "ADDED":
				n.added++
			case "DELETED":
				n.deleted++
			}
			seen <- n
		}
	}()
	read := func() counts { n := <-seen; seen <- n; return n }

	rs := createRS(t, ctx, c, newRS("many", 200, map[string]string{"app": "many"}))
	uid := rs.GetMetadata().GetUid()
	waitPods(t, ctx, c, uid, 200)
	controllertest.Eventually(t, "status of 200 replicas", func() bool { return getRS(t, ctx, c, "many").GetStatus().GetReplicas() == 200 })
	controllertest.Eventually(t, "the watch to see 200 pods", func() bool { return read().added >= 200 })

	scale(t, ctx, c, scheme.ReplicaSets, "many", 120)
	waitPods(t, ctx, c, uid, 120)
	controllertest.Eventually(t, "status of 120 replicas", func() bool { return getRS(t, ctx, c, "many").GetStatus().GetReplicas() == 120 })
	controllertest.Eventually(t, "the watch to see 80 deletions", func() bool { return read().deleted >= 80 })
	// Converged: one more status write proves the controller has nothing left in flight.
	if n := read(); n.added != 200 || n.deleted != 80 {
		t.Errorf("pods ever created %d, deleted %d; want 200 and 80", n.added, n.deleted)
	}
	if n := len(activePods(t, ctx, c, uid)); n != 120 {
		t.Errorf("%d active pods, want 120", n)
	}
}

func TestOwnerBeingDeletedCreatesNothing(t *testing.T) {
	c, ctx := setup(t)
	spec := newRS("going", 2, map[string]string{"app": "going"})
	spec.Metadata.Finalizers = []string{"test.berth.dev/hold"}
	rs := createRS(t, ctx, c, spec)
	uid := rs.GetMetadata().GetUid()
	pods := waitPods(t, ctx, c, uid, 2)
	controllertest.Eventually(t, "status of 2 replicas", func() bool { return getRS(t, ctx, c, "going").GetStatus().GetReplicas() == 2 })
	if _, err := c.Resource(scheme.ReplicaSets).Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: "going", PropagationPolicy: "Orphan"}); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "the owner marked deleted", func() bool {
		return getRS(t, ctx, c, "going").GetMetadata().GetDeletionTimestamp() != nil
	})
	if _, err := c.Resource(scheme.Pods).Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: pods[0].GetMetadata().GetName()}); err != nil {
		t.Fatal(err)
	}
	// The status write that counts 1 replica comes from the reconcile that created nothing.
	controllertest.Eventually(t, "status of 1 replica", func() bool { return getRS(t, ctx, c, "going").GetStatus().GetReplicas() == 1 })
	if n := len(activePods(t, ctx, c, uid)); n != 1 {
		t.Errorf("%d active pods, want 1: an owner being deleted creates none", n)
	}
	// Let it go.
	cur := getRS(t, ctx, c, "going")
	cur.Metadata.Finalizers = nil
	if _, err := c.Resource(scheme.ReplicaSets).Update(ctx, cur); err != nil && !kerrors.IsNotFound(err) {
		t.Fatal(err)
	}
}

func TestRecreatedOwnerDoesNotWaitForItsPredecessor(t *testing.T) {
	// A lagging Pod cache leaves the first owner's creates unseen when it is deleted, most
	// likely while the reconcile that makes them still runs.
	c, ctx := setupLagging(t, 3*time.Millisecond)
	first := createRS(t, ctx, c, newRS("again", 100, map[string]string{"app": "again"}))
	controllertest.Eventually(t, "the first pods", func() bool { return len(activePods(t, ctx, c, first.GetMetadata().GetUid())) > 0 })
	if _, err := c.Resource(scheme.ReplicaSets).Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: "again"}); err != nil {
		t.Fatal(err)
	}
	second := createRS(t, ctx, c, newRS("again", 30, map[string]string{"app": "again"}))
	waitPods(t, ctx, c, second.GetMetadata().GetUid(), 30)
}
