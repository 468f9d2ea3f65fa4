// Package cache is the scheduler's memory of the cluster: every Node and the Pods on it,
// both those the informers show bound and those the scheduler has assumed onto a Node while
// their binding is in flight. Counting assumed Pods at once is what keeps Nodes from being
// overcommitted when many Pods are placed faster than bindings complete.
//
// An assumed Pod (AssumePod) becomes an ordinary one when the informer shows it bound
// (AddPod); a failed binding forgets it (ForgetPod). Pods bound to a Node the cache has no
// object for still count, on a Node no snapshot shows, until the Node appears or they go.
//
// UpdateSnapshot keeps a framework.Snapshot in step by copying only the Nodes changed since
// the snapshot's generation: the cache links its Nodes from the most recently changed, so an
// update walks only the changes, not the cluster.
package cache
