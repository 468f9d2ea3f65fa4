package nodelifecycle

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/controller"
	"github.com/berth-dev/berth/pkg/events"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// reconcile brings one Node, and the Pods bound to it, in line with its heartbeats: key is
// the Node's name.
func (n *Controller) reconcile(ctx context.Context, key string) (controller.Result, error) {
	node, ok := n.nodes.Get("", key)
	if !ok {
		return n.collectOrphans(ctx, key)
	}
	n.mu.Lock()
	delete(n.missing, key)
	n.mu.Unlock()
	now := n.now()
	lease, _ := n.leases.Get(LeaseNamespace, key)
	last := n.observe(node, lease, now)
	grace := n.opts.NodeMonitorGracePeriod
	if condition(node.GetStatus(), ConditionReady) == nil {
		grace = n.opts.NodeStartupGracePeriod
	}
	var next soonest
	if wait := last.Add(grace).Sub(now); wait >= 0 {
		next.in(wait + time.Millisecond) // just after the grace period ends
	} else {
		var err error
		if node, err = n.markNodeUnknown(ctx, node, now, now.Sub(last)); err != nil {
			return controller.Result{}, err
		}
	}
	node, err := n.syncTaints(ctx, node, now)
	if err != nil {
		return controller.Result{}, err
	}
	pods := n.podsOn(key)
	if condition(node.GetStatus(), ConditionReady).GetStatus() == StatusUnknown {
		if err := n.markPodsNotReady(ctx, node, pods, now); err != nil {
			return controller.Result{}, fmt.Errorf("node %s: %w", key, err)
		}
	}
	after, err := n.evictPods(ctx, node, pods, now)
	if err != nil {
		return controller.Result{}, fmt.Errorf("node %s: %w", key, err)
	}
	next.in(after)
	return controller.Result{RequeueAfter: next.d}, nil
}

// markNodeUnknown marks the conditions of node, silent for silence, Unknown through
// UpdateStatus, and returns the Node as stored. A Node that was Ready gets the Event
// NodeNotReady.
func (n *Controller) markNodeUnknown(ctx context.Context, node *corev1.Node, now time.Time, silence time.Duration) (*corev1.Node, error) {
	upd := proto.Clone(node).(*corev1.Node) // never modify the cache's copy
	if upd.Status == nil {
		upd.Status = &corev1.NodeStatus{}
	}
	if !markUnknown(upd.Status, node.GetMetadata().GetCreationTimestamp(), now) {
		return node, nil
	}
	name := node.GetMetadata().GetName()
	out, err := n.client.Resource(scheme.Nodes).UpdateStatus(ctx, upd)
	if err != nil {
		return nil, fmt.Errorf("mark node %s unknown: %w", name, err)
	}
	controller.LoggerFrom(ctx).Warn("node stopped posting its status, marked unknown", "silentFor", silence.Round(time.Millisecond))
	if condition(node.GetStatus(), ConditionReady).GetStatus() == StatusTrue {
		n.event(out, events.Normal, "NodeNotReady", "Node %s status is now: %s", name, "NodeNotReady")
	}
	return out.(*corev1.Node), nil
}
