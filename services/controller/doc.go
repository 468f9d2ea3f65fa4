// Package controller is Berth's controller manager: Run starts every controller loop registered
// in its `controllers` list (Namespace, ReplicaSet, ReplicationController, Deployment, the
// garbage collector, Node lifecycle) against the apiserver's gRPC API, sharing one informer per
// resource. `berth controller` runs it alone;
// `berth server` runs it in-process.
//
// Several controller managers can run against one apiserver: they elect a leader through the
// Lease kube-system/berth-controller-manager (package leaderelection), and only the leader runs
// the controllers. Each term of leadership starts them afresh, with new informers, so a manager
// that loses the Lease and wins it back starts from the apiserver's current state.
package controller
