// Package controllerref decides which objects a workload controller owns, as Kubernetes'
// ControllerRefManager does: the owner is named by the one ownerReference with
// controller: true (the ControllerRef). A controller claims the objects of its namespace:
// it keeps those it controls and its selector still matches, adopts orphans its selector
// matches (adding a ControllerRef to itself), and releases those it controls but no longer
// matches (removing its ownerReference), so that an object never has two controllers and a
// relabeled Pod leaves its ReplicaSet.
//
// Adoption re-reads the owner from the apiserver first (CanAdopt), so that a controller
// acting on a stale cache never adopts for an owner that has been deleted or replaced.
package controllerref
