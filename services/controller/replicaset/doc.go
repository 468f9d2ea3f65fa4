// Package replicaset is the ReplicaSet controller and the ReplicationController manager: one
// reconcile loop, as in Kubernetes, serving both kinds through a small adapter (a
// ReplicationController is read as a ReplicaSet whose selector is its equality map).
//
// For each owner it keeps exactly spec.replicas active Pods (not Succeeded or Failed, not being
// deleted) made from spec.template:
//
//   - it claims Pods with controllerref.Manager: it adopts matching orphans (after re-reading the
//     owner from the apiserver) and releases the Pods whose labels no longer match;
//   - it creates the missing Pods (generateName "<owner>-", the template's labels and
//     annotations, a ControllerRef with blockOwnerDeletion) in slow-start batches of 1, 2, 4, ...
//     that stop at the first error, at most BurstReplicas per reconcile;
//   - it deletes the surplus Pods, least valuable first, in Kubernetes' order (unassigned before
//     assigned, Pending before Unknown before Running, not ready before ready, lower
//     controller.kubernetes.io/pod-deletion-cost first, Pods doubled up on a Node first, ready
//     for less time first, more restarts first, newer first);
//   - it remembers the creates and deletes in flight (expectations) and changes nothing for an
//     owner until its Pod informer has seen them all, or five minutes have passed, so a cache
//     that lags behind its own writes never makes it create or delete too many;
//   - it writes status (replicas, fullyLabeledReplicas, readyReplicas, availableReplicas,
//     observedGeneration and the ReplicaFailure condition) only when it changed, and looks again
//     when a ready Pod is due to become available after minReadySeconds.
//
// An owner being deleted gets only its status written. Events carry Kubernetes' reasons and
// messages: SuccessfulCreate, SuccessfulDelete, FailedCreate, FailedDelete. A Pod create the
// apiserver refuses is retried with the framework's per-key backoff, never in a tight loop.
package replicaset
