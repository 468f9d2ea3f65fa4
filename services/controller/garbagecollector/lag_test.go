package garbagecollector

import (
	"testing"

	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/controller/controllertest"
)

// TestAnOwnerTheCacheLacksIsLookedUpLive plays an informer that lags: the graph has seen a
// Pod but not its ReplicaSet. The collector must find the ReplicaSet through the apiserver and
// keep the Pod, and collect it only once the ReplicaSet is really gone.
func TestAnOwnerTheCacheLacksIsLookedUpLive(t *testing.T) {
	c, ctx := controllertest.Start(t)
	gc := New(c, informer.NewFactory(c, informer.Options{}), Options{}) // informers never run

	replicas := int32(1)
	labels := map[string]string{"app": "web"}
	owner, err := c.Resource(scheme.ReplicaSets).Create(ctx, &appsv1.ReplicaSet{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: &appsv1.ReplicaSetSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: labels}, Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "app", Image: "berth-testapp:latest"}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ouid := owner.GetMetadata().GetUid()
	yes := true
	pod, err := c.Resource(scheme.Pods).Create(ctx, &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web-1", Labels: labels, OwnerReferences: []*metav1.OwnerReference{{
			ApiVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", Uid: ouid, Controller: &yes, BlockOwnerDeletion: &yes,
		}}},
		Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "app", Image: "berth-testapp:latest"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	puid := pod.GetMetadata().GetUid()
	gc.graph.observe(scheme.Pods, pod)

	res, err := gc.reconcile(ctx, ouid)
	if err != nil || res.RequeueAfter <= 0 {
		t.Fatalf("reconcile of the owner the cache lacks = %+v, %v; want a requeue to wait for the informer", res, err)
	}
	if _, err := gc.reconcile(ctx, puid); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Resource(scheme.Pods).Get(ctx, "default", "web-1"); err != nil {
		t.Fatalf("the Pod of an existing owner was collected: %v", err)
	}

	if _, err := c.Resource(scheme.ReplicaSets).Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: "web"}); err != nil {
		t.Fatal(err)
	}
	if res, err := gc.reconcile(ctx, ouid); err != nil || res.RequeueAfter != 0 {
		t.Fatalf("reconcile of the owner gone = %+v, %v", res, err)
	}
	if s := gc.graph.owner(ouid); s != ownerUnknown || gc.graph.len() != 1 {
		t.Fatalf("the virtual owner is still in the graph (%v, %d nodes)", s, gc.graph.len())
	}
	if _, err := gc.reconcile(ctx, puid); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Resource(scheme.Pods).Get(ctx, "default", "web-1"); !kerrors.IsNotFound(err) {
		t.Fatalf("the Pod of a deleted owner is still there: %v", err)
	}
}
