package endpoints

import (
	"context"
	"fmt"
	"maps"
	"math"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	kv1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/berth-dev/berth/pkg/controller"
	"github.com/berth-dev/berth/pkg/events"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// reconcile makes the Endpoints of Service key match the Pods its selector matches.
func (e *Controller) reconcile(ctx context.Context, key string) (controller.Result, error) {
	log := controller.LoggerFrom(ctx)
	ns, name := scheme.SplitKey(key)
	svc, ok := e.services.Get(ns, name)
	if !ok {
		e.triggers.forget(key)
		e.stale.forget(key)
		e.warnings.forget(key)
		if _, ok := e.endpoints.Get(ns, name); !ok {
			return controller.Result{}, nil // the informer tells if one appears
		}
		_, err := e.client.Resource(scheme.Endpoints).Delete(ctx, &metav1.DeleteRequest{Namespace: ns, Name: name})
		if err != nil && !kerrors.IsNotFound(err) {
			return controller.Result{}, fmt.Errorf("delete endpoints %s of a deleted service: %w", key, err)
		}
		log.Info("deleted the endpoints of a deleted service")
		return controller.Result{}, nil
	}
	spec := svc.GetSpec()
	if spec.GetType() == "ExternalName" || len(spec.GetSelector()) == 0 {
		// ExternalName Services have no endpoints; those without a selector have the
		// Endpoints their users write.
		e.warnings.forget(key)
		return controller.Result{}, nil
	}
	sel := labels.SelectorFromValidatedSet(spec.GetSelector())
	var pods []*corev1.Pod
	for _, p := range e.pods.ByNamespace(ns) {
		if sel.Matches(labels.Set(p.GetMetadata().GetLabels())) {
			pods = append(pods, p)
		}
	}
	want := desiredSubsets(svc, pods)
	for _, u := range e.warnings.fresh(key, unresolvedPorts(svc, pods)) {
		log.Info("a named targetPort resolves in no selected pod", "port", u.port.GetName(), "targetPort", u.port.GetTargetPort().GetStringValue())
		e.event(svc, ReasonFailedToResolvePort, "%s", u.message())
	}

	cur, exists := e.endpoints.Get(ns, name)
	if rv := cur.GetMetadata().GetResourceVersion(); e.stale.stale(key, rv) {
		// The informer's event of the write (or of whatever came after it) reconciles the
		// key again.
		log.Debug("endpoints cache is behind the last write, waiting for it", "resourceVersion", rv)
		return controller.Result{}, nil
	}
	// Computed on every reconcile past the wait above, written or not, so that the next one
	// knows what changed (a reconcile that waits must leave the changes to the one that writes).
	trigger := e.triggers.compute(key, svc, pods)
	truncated := truncate(want.subsets)
	subsets := toProto(want.subsets)
	if exists &&
		subsetsEqual(cur.GetSubsets(), subsets) &&
		maps.Equal(withoutHeadless(cur.GetMetadata().GetLabels()), svc.GetMetadata().GetLabels()) &&
		capacityMarkedRightly(cur, truncated) {
		return controller.Result{}, nil
	}

	var ep *corev1.Endpoints
	if exists {
		ep = proto.Clone(cur).(*corev1.Endpoints) // never modify the cache's copy
	} else {
		ep = &corev1.Endpoints{Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name}}
	}
	ep.Subsets = subsets
	md := ep.Metadata
	md.Labels = maps.Clone(svc.GetMetadata().GetLabels())
	if md.Labels == nil {
		md.Labels = map[string]string{}
	}
	if !serviceIPSet(spec) {
		md.Labels[LabelHeadless] = ""
	}
	if md.Annotations == nil {
		md.Annotations = map[string]string{}
	}
	if !trigger.IsZero() {
		md.Annotations[AnnotationLastChangeTriggerTime] = trigger.UTC().Format(time.RFC3339Nano)
	} else {
		delete(md.Annotations, AnnotationLastChangeTriggerTime)
	}
	if truncated {
		md.Annotations[AnnotationOverCapacity] = "truncated"
	} else {
		delete(md.Annotations, AnnotationOverCapacity)
	}
	if len(md.Annotations) == 0 {
		md.Annotations = nil
	}

	log.Debug("writing endpoints", "ready", want.ready, "notReady", want.notReady, "create", !exists)
	rc := e.client.Resource(scheme.Endpoints)
	if !exists {
		_, err := rc.Create(ctx, ep)
		switch {
		case err == nil:
			e.stale.wrote(key, "")
			return controller.Result{}, nil
		case kerrors.IsAlreadyExists(err):
			// Created meanwhile by someone else: retried once the cache has it.
			return controller.Result{}, fmt.Errorf("create endpoints %s: %w", key, err)
		case kerrors.IsForbidden(err) && namespaceTerminating(err):
			log.Debug("not creating endpoints in a terminating namespace")
			return controller.Result{}, nil
		}
		e.event(ep, "FailedToCreateEndpoint", "Failed to create endpoint for service %v/%v: %v", ns, name, err)
		return controller.Result{}, fmt.Errorf("create endpoints %s: %w", key, err)
	}
	out, err := rc.Update(ctx, ep)
	if err != nil {
		if !kerrors.IsConflict(err) && !kerrors.IsNotFound(err) {
			e.event(ep, "FailedToUpdateEndpoint", "Failed to update endpoint %v/%v: %v", ns, name, err)
		}
		return controller.Result{}, fmt.Errorf("update endpoints %s: %w", key, err)
	}
	if rv := cur.GetMetadata().GetResourceVersion(); out.GetMetadata().GetResourceVersion() != rv {
		e.stale.wrote(key, rv)
	}
	return controller.Result{}, nil
}

// event records a Warning Event about obj (the Endpoints, or the Service).
func (e *Controller) event(obj scheme.Object, reason, format string, args ...any) {
	if e.recorder != nil {
		e.recorder.Eventf(obj, events.Warning, reason, format, args...)
	}
}

// namespaceTerminating tells whether a Forbidden error refused content in a namespace being
// deleted.
func namespaceTerminating(err error) bool {
	return kerrors.HasStatusCause(err, kv1.NamespaceTerminatingCause) ||
		strings.Contains(err.Error(), "because it is being terminated")
}

// serviceIPSet tells whether the Service has a cluster IP (is not headless).
func serviceIPSet(spec *corev1.ServiceSpec) bool {
	return spec.GetClusterIp() != "" && spec.GetClusterIp() != ClusterIPNone
}

// withoutHeadless is m without LabelHeadless, for comparing with the Service's labels.
func withoutHeadless(m map[string]string) map[string]string {
	if _, ok := m[LabelHeadless]; !ok {
		return m
	}
	m = maps.Clone(m)
	delete(m, LabelHeadless)
	return m
}

// subsetsEqual compares subsets, ignoring the resourceVersion of the addresses' targets.
func subsetsEqual(a, b []*corev1.EndpointSubset) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !proto.Equal(withoutTargetVersions(a[i]), withoutTargetVersions(b[i])) {
			return false
		}
	}
	return true
}

func withoutTargetVersions(ss *corev1.EndpointSubset) *corev1.EndpointSubset {
	has := func(as []*corev1.EndpointAddress) bool {
		for _, a := range as {
			if a.GetTargetRef().GetResourceVersion() != "" {
				return true
			}
		}
		return false
	}
	if !has(ss.GetAddresses()) && !has(ss.GetNotReadyAddresses()) {
		return ss
	}
	ss = proto.Clone(ss).(*corev1.EndpointSubset)
	for _, a := range append(ss.GetAddresses(), ss.GetNotReadyAddresses()...) {
		if a.TargetRef != nil {
			a.TargetRef.ResourceVersion = ""
		}
	}
	return ss
}

// capacityMarkedRightly tells whether the Endpoints carry the over-capacity annotation
// exactly when their addresses were truncated.
func capacityMarkedRightly(ep *corev1.Endpoints, truncated bool) bool {
	_, marked := ep.GetMetadata().GetAnnotations()[AnnotationOverCapacity]
	return marked == truncated
}

// truncate cuts subsets down to MaxCapacity addresses as Kubernetes does, ready addresses
// first: each subset keeps a share proportional to its size. It reports whether it cut.
func truncate(subsets []kv1.EndpointSubset) bool {
	ready, notReady := 0, 0
	for _, ss := range subsets {
		ready += len(ss.Addresses)
		notReady += len(ss.NotReadyAddresses)
	}
	if ready+notReady <= MaxCapacity {
		return false
	}
	cutReady := ready > MaxCapacity
	limit, total := MaxCapacity-ready, notReady
	if cutReady {
		limit, total = MaxCapacity, ready
	}
	left := limit
	for i := range subsets {
		ss := &subsets[i]
		n := len(ss.NotReadyAddresses)
		if cutReady {
			n = len(ss.Addresses)
		}
		keep := min(int(math.Ceil(float64(n)/float64(total)*float64(limit))), left)
		if cutReady {
			ss.Addresses = ss.Addresses[:min(keep, len(ss.Addresses))]
			ss.NotReadyAddresses = []kv1.EndpointAddress{}
			left -= len(ss.Addresses)
		} else {
			ss.NotReadyAddresses = ss.NotReadyAddresses[:min(keep, len(ss.NotReadyAddresses))]
			left -= len(ss.NotReadyAddresses)
		}
	}
	return true
}
