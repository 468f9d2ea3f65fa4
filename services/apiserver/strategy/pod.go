package strategy

import (
	"context"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// pod adds to base: a new Pod is Pending with its QoS class; deletion of a Pod that runs on a
// Node waits out its grace period for the agent to stop it.
type pod struct{ *base }

func (p *pod) PrepareForCreate(ctx context.Context, obj scheme.Object) {
	p.base.PrepareForCreate(ctx, obj)
	po := obj.(*corev1.Pod)
	po.Status = &corev1.PodStatus{Phase: "Pending", QosClass: QOSClass(po.GetSpec())}
}

// DeletionGrace: a Pod bound to a Node and still running gets its grace period (the request's,
// else terminationGracePeriodSeconds); the Node's agent finishes the deletion. An unbound or
// finished Pod goes at once.
func (p *pod) DeletionGrace(obj scheme.Object, req *metav1.DeleteRequest) (int64, bool) {
	po := obj.(*corev1.Pod)
	if po.GetSpec().GetNodeName() == "" {
		return 0, false
	}
	switch po.GetStatus().GetPhase() {
	case "Succeeded", "Failed":
		return 0, false
	}
	grace := int64(30)
	if g := po.GetSpec().TerminationGracePeriodSeconds; g != nil {
		grace = *g
	}
	if req.GracePeriodSeconds != nil {
		grace = *req.GracePeriodSeconds
	}
	if grace == 0 {
		return 0, false
	}
	return grace, true
}

// QOSClass computes a Pod's quality-of-service class as Kubernetes does: Guaranteed when every
// container has equal cpu and memory requests and limits, BestEffort when none has any,
// Burstable otherwise.
func QOSClass(spec *corev1.PodSpec) string {
	any, guaranteed := false, true
	for _, c := range append(append([]*corev1.Container{}, spec.GetInitContainers()...), spec.GetContainers()...) {
		req, lim := c.GetResources().GetRequests(), c.GetResources().GetLimits()
		if len(req) > 0 || len(lim) > 0 {
			any = true
		}
		for _, r := range []string{"cpu", "memory"} {
			l, ok := lim[r]
			if !ok {
				guaranteed = false
				continue
			}
			if q, ok := req[r]; ok && !sameQuantity(q, l) {
				guaranteed = false
			}
		}
	}
	switch {
	case !any:
		return "BestEffort"
	case guaranteed:
		return "Guaranteed"
	}
	return "Burstable"
}

func sameQuantity(a, b string) bool {
	qa, err1 := resource.ParseQuantity(a)
	qb, err2 := resource.ParseQuantity(b)
	return err1 == nil && err2 == nil && qa.Cmp(qb) == 0
}
