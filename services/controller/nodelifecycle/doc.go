// Package nodelifecycle is the Node lifecycle controller ("node-controller"): it watches the
// Nodes' heartbeats, marks the Nodes that stopped sending them, taints Nodes that are not
// ready, evicts the Pods of Nodes that stay so, and removes the Pods of Nodes that are gone.
// It does what Kubernetes' node lifecycle, taint-eviction and (orphan) pod garbage-collection
// controllers do, with their reasons, messages, taints and Events.
//
// # Heartbeats
//
// A Node's heartbeat is a change of its Lease kube-node-lease/<node> (spec.renewTime) or of
// its Ready condition's lastHeartbeatTime. Like Kubernetes, the controller measures with its
// own clock from the moment it saw a heartbeat change, so clocks skewed between agents and
// the controller do not matter. When none arrives for the grace period (NodeMonitorGracePeriod;
// NodeStartupGracePeriod for a Node that never reported a Ready condition), every Node
// condition (Ready, MemoryPressure, DiskPressure, PIDPressure) becomes Unknown with reason
// NodeStatusUnknown and message "Kubelet stopped posting node status.", the Event NodeNotReady
// is recorded on the Node, and the Pods on it get their Ready condition set to False, so that
// endpoints drop them.
//
// # Taints
//
// Conditions map to NoSchedule taints (Ready False: node.kubernetes.io/not-ready, Ready
// Unknown: node.kubernetes.io/unreachable, MemoryPressure, DiskPressure, PIDPressure and
// NetworkUnavailable True: their own taints; spec.unschedulable:
// node.kubernetes.io/unschedulable), and the Ready condition to a NoExecute taint (not-ready or
// unreachable), each with timeAdded. A Node that reports Ready=True again loses them; the
// controller records NodeReady when the Node comes back from unreachable (an agent that was
// cut off does not know it was marked).
//
// # Eviction
//
// A Pod on a Node with NoExecute taints is deleted (a graceful delete, after the condition
// DisruptionTarget, reason DeletionByTaintManager; Event TaintManagerEviction) once it has been
// there longer than it tolerates: at once for a taint it does not tolerate, after the smallest
// tolerationSeconds of the tolerations that match, never when none of those sets
// tolerationSeconds. Berth has no DefaultTolerationSeconds admission, so a Pod that does not
// tolerate node.kubernetes.io/not-ready or unreachable is treated as tolerating them for
// PodEvictionTimeout, which is what that admission gives every Pod in Kubernetes. The clock of
// a taint starts at its timeAdded. The controller asks to be called again when the next
// eviction is due, instead of polling.
//
// # Disruption
//
// As in Kubernetes, the NoExecute taints, and so the evictions, hold back when the fault looks
// like the network's or the control plane's rather than the Nodes': when no Node at all is
// ready, every Node loses its NoExecute taints and gets none ("master disruption mode"; once a
// Node is ready again, every Node gets a fresh grace period); in a zone of at most 50 Nodes
// where more than two and at least 55% are not ready, no new NoExecute taint is added. Nodes
// labelled node.kubernetes.io/exclude-disruption are not counted. Kubernetes' eviction rate
// limits (one Node tainted every 10 s per zone) are not reproduced.
//
// # Orphaned Pods
//
// Pods bound to a Node that does not exist are, after a quarantine (PodGCQuarantine, 40 s
// like Kubernetes' pod GC) and a check with the apiserver, marked Failed (condition
// DisruptionTarget, reason DeletionByPodGC) and deleted at once: no agent will finish them.
package nodelifecycle
