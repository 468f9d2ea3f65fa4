package gateway

import (
	"context"
	"testing"
	"time"

	kappsv1 "k8s.io/api/apps/v1"
	kcorev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
)

// TestClientGo drives the gateway with Kubernetes' own Go client, k8s.io/client-go's typed
// clientset: what it sends and what it expects back is what a Kubernetes apiserver speaks.
func TestClientGo(t *testing.T) {
	e := start(t)
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: e.url, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("pods", func(t *testing.T) {
		pods := cs.CoreV1().Pods("default")
		w, err := pods.Watch(ctx, kmetav1.ListOptions{LabelSelector: "app=cg"})
		if err != nil {
			t.Fatalf("watch: %v", err)
		}
		defer w.Stop()
		pod := &kcorev1.Pod{
			ObjectMeta: kmetav1.ObjectMeta{Name: "cg", Labels: map[string]string{"app": "cg"}},
			Spec: kcorev1.PodSpec{Containers: []kcorev1.Container{{
				Name: "web", Image: "nginx:1.27",
				Ports: []kcorev1.ContainerPort{{ContainerPort: 80}},
			}}},
		}
		created, err := pods.Create(ctx, pod, kmetav1.CreateOptions{FieldValidation: "Strict"})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if created.Namespace != "default" || created.UID == "" || created.ResourceVersion == "" || created.Spec.RestartPolicy != kcorev1.RestartPolicyAlways {
			t.Errorf("created: %+v", created.ObjectMeta)
		}
		if _, err := pods.Create(ctx, pod, kmetav1.CreateOptions{}); !kerrors.IsAlreadyExists(err) {
			t.Errorf("second create: %v", err)
		}
		got, err := pods.Get(ctx, "cg", kmetav1.GetOptions{})
		if err != nil || got.UID != created.UID {
			t.Fatalf("get: %v", err)
		}
		if _, err := pods.Get(ctx, "nope", kmetav1.GetOptions{}); !kerrors.IsNotFound(err) {
			t.Errorf("get missing: %v", err)
		}
		list, err := pods.List(ctx, kmetav1.ListOptions{LabelSelector: "app=cg"})
		if err != nil || len(list.Items) != 1 || list.ResourceVersion == "" {
			t.Fatalf("list: %v %+v", err, list)
		}
		all, err := cs.CoreV1().Pods("").List(ctx, kmetav1.ListOptions{})
		if err != nil || len(all.Items) != 1 {
			t.Fatalf("list across namespaces: %v", err)
		}
		got.Labels["tier"] = "front"
		updated, err := pods.Update(ctx, got, kmetav1.UpdateOptions{})
		if err != nil || updated.Labels["tier"] != "front" {
			t.Fatalf("update: %v", err)
		}
		if _, err := pods.Update(ctx, got, kmetav1.UpdateOptions{}); !kerrors.IsConflict(err) {
			t.Errorf("stale update: %v", err)
		}
		updated.Status.Phase = kcorev1.PodRunning
		if st, err := pods.UpdateStatus(ctx, updated, kmetav1.UpdateOptions{}); err != nil || st.Status.Phase != kcorev1.PodRunning {
			t.Errorf("update status: %v", err)
		}
		bad := pod.DeepCopy()
		bad.Name = "Bad_Name"
		if _, err := pods.Create(ctx, bad, kmetav1.CreateOptions{}); !kerrors.IsInvalid(err) {
			t.Errorf("invalid create: %v", err)
		}
		if err := pods.Delete(ctx, "cg", kmetav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
			t.Fatalf("delete: %v", err)
		}
		wantEvents(t, w, "cg", watch.Added, watch.Modified, watch.Modified, watch.Deleted)
	})

	t.Run("deployments", func(t *testing.T) {
		deploys := cs.AppsV1().Deployments("default")
		d := &kappsv1.Deployment{
			ObjectMeta: kmetav1.ObjectMeta{Name: "cg-deploy"},
			Spec: kappsv1.DeploymentSpec{
				Replicas: ptr.To[int32](2),
				Selector: &kmetav1.LabelSelector{MatchLabels: map[string]string{"app": "cgd"}},
				Template: kcorev1.PodTemplateSpec{
					ObjectMeta: kmetav1.ObjectMeta{Labels: map[string]string{"app": "cgd"}},
					Spec:       kcorev1.PodSpec{Containers: []kcorev1.Container{{Name: "web", Image: "nginx:1.27"}}},
				},
			},
		}
		created, err := deploys.Create(ctx, d, kmetav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		w, err := deploys.Watch(ctx, kmetav1.ListOptions{ResourceVersion: created.ResourceVersion})
		if err != nil {
			t.Fatalf("watch: %v", err)
		}
		defer w.Stop()
		if created.Spec.Strategy.Type != kappsv1.RollingUpdateDeploymentStrategyType || created.Spec.Strategy.RollingUpdate.MaxSurge.String() != "25%" {
			t.Errorf("defaults: %+v", created.Spec.Strategy)
		}
		got, err := deploys.Get(ctx, "cg-deploy", kmetav1.GetOptions{})
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		got.Spec.Replicas = ptr.To[int32](3)
		if _, err := deploys.Update(ctx, got, kmetav1.UpdateOptions{}); err != nil {
			t.Fatalf("update: %v", err)
		}
		scale, err := deploys.GetScale(ctx, "cg-deploy", kmetav1.GetOptions{})
		if err != nil || scale.Spec.Replicas != 3 {
			t.Fatalf("get scale: %v %+v", err, scale)
		}
		scale.Spec.Replicas = 5
		if s, err := deploys.UpdateScale(ctx, "cg-deploy", scale, kmetav1.UpdateOptions{}); err != nil || s.Spec.Replicas != 5 {
			t.Fatalf("update scale: %v", err)
		}
		list, err := cs.AppsV1().Deployments("").List(ctx, kmetav1.ListOptions{})
		if err != nil || len(list.Items) != 1 || *list.Items[0].Spec.Replicas != 5 {
			t.Fatalf("list: %v", err)
		}
		fg := kmetav1.DeletePropagationForeground
		if err := deploys.Delete(ctx, "cg-deploy", kmetav1.DeleteOptions{PropagationPolicy: &fg}); err != nil {
			t.Fatalf("delete: %v", err)
		}
		wantEvents(t, w, "cg-deploy", watch.Modified, watch.Modified)
	})
}

// wantEvents reads watch events of the object name until it has seen the types in order
// (DELETED may be a last MODIFIED when finalizers hold the object).
func wantEvents(t *testing.T, w watch.Interface, name string, types ...watch.EventType) {
	t.Helper()
	for _, want := range types {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch closed, waiting for %s", want)
			}
			if ev.Type == watch.Error {
				t.Fatalf("watch error: %v", kerrors.FromObject(ev.Object))
			}
			obj, ok := ev.Object.(kmetav1.Object)
			if !ok || obj.GetName() != name || ev.Type != want {
				t.Fatalf("event %s %T, want %s of %s", ev.Type, ev.Object, want, name)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s event after 10s", want)
		}
	}
}
