package agent

import (
	"context"
	"fmt"

	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// podWorkers is what the agent needs of the pod workers (agent/podworker): they run each
// Pod bound to the Node on the runtime and report back through the agent's status manager.
type podWorkers interface {
	// Adopt is called once, after the first list of the Pods bound to the Node and before any
	// Update: the running containers of those Pods are adopted, every other container and
	// sandbox the agent made on this Node is removed.
	Adopt(ctx context.Context, bound []*corev1.Pod) error
	// Update hands over the latest version of a Pod bound to the Node (one being deleted
	// included). It does not block.
	Update(pod *corev1.Pod)
	// Remove tells that a Pod is gone from the apiserver (or bound elsewhere): its containers
	// are stopped and removed. It does not block.
	Remove(pod *corev1.Pod)
	// Run runs the workers until ctx ends.
	Run(ctx context.Context)
}

// podSink is how the pod workers report back to the agent.
type podSink interface {
	// SetStatus records the status of a Pod, to be written.
	SetStatus(pod *corev1.Pod, status *corev1.PodStatus)
	// Finish is called once a Pod with a deletionTimestamp is torn down: the agent deletes it.
	Finish(pod *corev1.Pod)
}

// assignments is the assignment stream: one informer of the Pods with spec.nodeName=<node>. It
// lists (a snapshot), then watches from the list's resourceVersion, resumes from the last
// resourceVersion after a disconnect and re-lists when that version has expired.
func (a *agent) newAssignments() *informer.Informer {
	inf := informer.New(a.cfg.Client, scheme.Pods, informer.Options{
		FieldSelector: "spec.nodeName=" + a.cfg.NodeName,
		// A Node has at most a few hundred Pods: one unpaged list, served from the
		// apiserver's watch cache, not a scan of every Pod in etcd.
		PageSize: -1,
		Logger:   a.log,
	})
	return inf
}

// followAssignments waits for the first list of the running assignment informer, adopts what
// runs on the Node, then hands every Pod change to the workers.
func (a *agent) followAssignments(ctx context.Context) error {
	if !informer.WaitForSync(ctx, a.assigned) {
		return ctx.Err()
	}
	bound := a.podLister.List()
	if err := a.workers.Adopt(ctx, bound); err != nil {
		return fmt.Errorf("adopt the containers of node %s: %w", a.cfg.NodeName, err)
	}
	a.log.Info("following pod assignments", "pods", len(bound))
	a.assigned.AddHandler(informer.HandlerFuncs{
		AddFunc: func(obj scheme.Object) {
			a.metrics.assignedPods.Inc()
			pod := obj.(*corev1.Pod)
			a.log.Debug("pod assigned", "pod", informer.KeyOf(pod), "uid", pod.GetMetadata().GetUid())
			a.workers.Update(pod)
		},
		UpdateFunc: func(_, obj scheme.Object) { a.workers.Update(obj.(*corev1.Pod)) },
		DeleteFunc: func(obj scheme.Object) {
			a.metrics.assignedPods.Dec()
			pod := obj.(*corev1.Pod)
			a.workers.Remove(pod)
			a.status.Forget(pod)
		},
	})
	return nil
}

// Pod returns a Pod bound to this Node by namespace and name, with the runtime that runs it
// (logexec.Locator).
func (a *agent) Pod(namespace, name string) (*corev1.Pod, bool) {
	return a.podLister.Get(namespace, name)
}
