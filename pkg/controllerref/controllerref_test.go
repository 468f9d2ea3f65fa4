package controllerref_test

import (
	"context"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/controllerref"
	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
)

func pod(name string, lbls map[string]string, refs ...*metav1.OwnerReference) *corev1.Pod {
	return &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name, Labels: lbls, OwnerReferences: refs},
		Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "app", Image: "berth-testapp:latest"}}},
	}
}

func names(objs []scheme.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetMetadata().GetName())
	}
	slices.Sort(out)
	return out
}

// TestClaim runs a claim against a real apiserver: it keeps, adopts, releases and leaves
// alone the right Pods, and the apiserver stores the ownerReferences it wrote.
func TestClaim(t *testing.T) {
	ctx := context.Background()
	c, err := client.Dial(ctx, apiservertest.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	web := map[string]string{"app": "web"}
	one := int32(1)
	rsObj, err := c.Resource(scheme.ReplicaSets).Create(ctx, &appsv1.ReplicaSet{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: &appsv1.ReplicaSetSpec{
			Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: web},
			Template: &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: web}, Spec: pod("x", nil).Spec},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	rs := rsObj.(*appsv1.ReplicaSet)
	other := &metav1.OwnerReference{ApiVersion: "apps/v1", Kind: "ReplicaSet", Name: "other", Uid: "other-uid", Controller: new(bool)}
	*other.Controller = true
	pods := c.Resource(scheme.Pods)
	var objs []scheme.Object
	for _, p := range []*corev1.Pod{
		pod("owned", web, controllerref.New(rs)),
		pod("relabeled", map[string]string{"app": "db"}, controllerref.New(rs)),
		pod("orphan", web),
		pod("stranger", map[string]string{"app": "db"}),
		pod("others", web, other),
	} {
		o, err := pods.Create(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	m := &controllerref.Manager{
		Owner: rs, Selector: labels.SelectorFromSet(web), Dependents: pods,
		CanAdopt: controllerref.FreshOwner(c.Resource(scheme.ReplicaSets), rs),
	}
	claimed, err := m.Claim(ctx, objs)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if got, want := names(claimed), []string{"orphan", "owned"}; !slices.Equal(got, want) {
		t.Errorf("claimed %v, want %v", got, want)
	}
	uid := rs.GetMetadata().GetUid()
	for name, want := range map[string]bool{"owned": true, "orphan": true, "relabeled": false, "stranger": false, "others": false} {
		o, err := pods.Get(ctx, "default", name)
		if err != nil {
			t.Fatal(err)
		}
		if got := controllerref.IsControlledBy(o, uid); got != want {
			t.Errorf("%s controlled by the ReplicaSet = %v, want %v (refs %v)", name, got, want, o.GetMetadata().GetOwnerReferences())
		}
	}

	// An owner replaced behind the cache's back adopts nothing.
	if _, err := c.Resource(scheme.ReplicaSets).Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: "web"}); err != nil {
		t.Fatal(err)
	}
	late, err := pods.Create(ctx, pod("late", web))
	if err != nil {
		t.Fatal(err)
	}
	m.CanAdopt = controllerref.FreshOwner(c.Resource(scheme.ReplicaSets), rs)
	claimed, err = m.Claim(ctx, []scheme.Object{late})
	if err == nil || len(claimed) != 0 {
		t.Errorf("Claim for a deleted owner: claimed %v, err %v; want nothing and an error", names(claimed), err)
	}
	if o, _ := pods.Get(ctx, "default", "late"); controllerref.Of(o) != nil {
		t.Errorf("late was adopted by a deleted owner: %v", o.GetMetadata().GetOwnerReferences())
	}
}
