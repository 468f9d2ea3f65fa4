package garbagecollector_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	"github.com/berth-dev/berth/pkg/testlog"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
	"github.com/berth-dev/berth/services/controller/controllertest"
	"github.com/berth-dev/berth/services/controller/garbagecollector"
)

// env is an apiserver, a client and the garbage collector running against it.
type env struct {
	t    *testing.T
	c    *client.Client
	ctx  context.Context
	addr string
}

// setup starts an apiserver and the garbage collector, and stops them when the test ends.
func setup(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	e.startGC()
	return e
}

// newEnv starts an apiserver, without the garbage collector, and stops it when the test ends.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, addr: apiservertest.Start(t)}
	e.c, e.ctx = controllertest.Connect(t, e.addr)
	return e
}

// startGC runs the garbage collector until the test ends. A test of Foreground or Orphan
// deletion creates the dependents first, so that the collector's graph holds them when it
// sees the deletion: only the dependents in its cache block an owner or are orphaned (as in
// Kubernetes), and an informer may show a dependent created just before the deletion after
// it.
func (e *env) startGC() {
	opts := garbagecollector.Options{Logger: testlog.New(e.t), VirtualRecheck: 50 * time.Millisecond}
	controllertest.Go(e.t, e.ctx, "garbagecollector.Run", func(ctx context.Context) error {
		return garbagecollector.Run(ctx, e.c, opts)
	})
}

func (e *env) create(obj scheme.Object) scheme.Object {
	e.t.Helper()
	out, err := e.c.Resource(scheme.ForObject(obj)).Create(e.ctx, obj)
	if err != nil {
		e.t.Fatalf("create %T %s: %v", obj, obj.GetMetadata().GetName(), err)
	}
	return out
}

// get returns the object, or nil when it does not exist.
func (e *env) get(r *scheme.Resource, ns, name string) scheme.Object {
	e.t.Helper()
	obj, err := e.c.Resource(r).Get(e.ctx, ns, name)
	if kerrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		e.t.Fatalf("get %s %s/%s: %v", r.Kind, ns, name, err)
	}
	return obj
}

func (e *env) gone(obj scheme.Object) bool {
	e.t.Helper()
	md := obj.GetMetadata()
	live := e.get(scheme.ForObject(obj), md.GetNamespace(), md.GetName())
	return live == nil || live.GetMetadata().GetUid() != md.GetUid()
}

func (e *env) delete(obj scheme.Object, policy string) {
	e.t.Helper()
	md := obj.GetMetadata()
	req := &metav1.DeleteRequest{Namespace: md.GetNamespace(), Name: md.GetName(), PropagationPolicy: policy}
	if _, err := e.c.Resource(scheme.ForObject(obj)).Delete(e.ctx, req); err != nil {
		e.t.Fatalf("delete %s: %v", md.GetName(), err)
	}
}

// removeFinalizer removes finalizer f from obj, re-reading on conflict.
func (e *env) removeFinalizer(obj scheme.Object, f string) {
	e.t.Helper()
	r := scheme.ForObject(obj)
	md := obj.GetMetadata()
	for {
		live := e.get(r, md.GetNamespace(), md.GetName())
		if live == nil {
			return
		}
		lmd := live.GetMetadata()
		lmd.Finalizers = slices.DeleteFunc(lmd.Finalizers, func(have string) bool { return have == f })
		_, err := e.c.Resource(r).Update(e.ctx, live)
		if kerrors.IsConflict(err) {
			continue
		}
		if err != nil && !kerrors.IsNotFound(err) {
			e.t.Fatalf("remove finalizer from %s: %v", md.GetName(), err)
		}
		return
	}
}

// ref is an ownerReference to obj.
func ref(obj scheme.Object, controller, block bool) *metav1.OwnerReference {
	r := scheme.ForObject(obj)
	md := obj.GetMetadata()
	return &metav1.OwnerReference{
		ApiVersion: r.APIVersion(), Kind: r.Kind, Name: md.GetName(), Uid: md.GetUid(),
		Controller: &controller, BlockOwnerDeletion: &block,
	}
}

var labels = map[string]string{"app": "web"}

func podSpec() *corev1.PodSpec {
	return &corev1.PodSpec{Containers: []*corev1.Container{{Name: "app", Image: "berth-testapp:latest"}}}
}

func template() *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: labels}, Spec: podSpec()}
}

func (e *env) replicaSet(ns, name string, owners ...*metav1.OwnerReference) *appsv1.ReplicaSet {
	e.t.Helper()
	replicas := int32(3)
	return e.create(&appsv1.ReplicaSet{
		Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels, OwnerReferences: owners},
		Spec:     &appsv1.ReplicaSetSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: template()},
	}).(*appsv1.ReplicaSet)
}

func (e *env) deployment(ns, name string) *appsv1.Deployment {
	e.t.Helper()
	replicas := int32(3)
	return e.create(&appsv1.Deployment{
		Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec:     &appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: template()},
	}).(*appsv1.Deployment)
}

func (e *env) pod(ns, name string, finalizers []string, owners ...*metav1.OwnerReference) *corev1.Pod {
	e.t.Helper()
	return e.create(&corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels, OwnerReferences: owners, Finalizers: finalizers},
		Spec:     podSpec(),
	}).(*corev1.Pod)
}

// pods creates n Pods named prefix-i controlled by owner, as a ReplicaSet controller would.
func (e *env) pods(owner scheme.Object, prefix string, n int) []*corev1.Pod {
	e.t.Helper()
	var out []*corev1.Pod
	for i := range n {
		out = append(out, e.pod(owner.GetMetadata().GetNamespace(), fmt.Sprintf("%s-%d", prefix, i), nil, ref(owner, true, true)))
	}
	return out
}

func allGone[T scheme.Object](e *env, objs []T) bool {
	for _, o := range objs {
		if !e.gone(o) {
			return false
		}
	}
	return true
}

// ownerUIDs are the uids of obj's ownerReferences as stored.
func (e *env) ownerUIDs(obj scheme.Object) []string {
	e.t.Helper()
	md := obj.GetMetadata()
	live := e.get(scheme.ForObject(obj), md.GetNamespace(), md.GetName())
	if live == nil {
		e.t.Fatalf("%s is gone", md.GetName())
	}
	var uids []string
	for _, r := range live.GetMetadata().GetOwnerReferences() {
		uids = append(uids, r.GetUid())
	}
	return uids
}
