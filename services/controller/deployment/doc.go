// Package deployment is the Deployment controller: it rolls a Deployment's Pod template out
// through ReplicaSets, exactly as Kubernetes' deployment controller does, so that stock
// kubectl's rollout status, history and undo work against Berth.
//
// Each Deployment owns ReplicaSets named "<deployment>-<pod-template-hash>"; the one whose
// template equals the Deployment's (ignoring the hash label) is the new ReplicaSet, the others
// are old. The controller claims ReplicaSets by selector (adopting orphans, releasing the
// unselected, package controllerref), creates the new ReplicaSet when the template changes,
// and moves replicas from the old ReplicaSets to the new one:
//
//   - RollingUpdate: the new ReplicaSet grows while the total stays within
//     replicas+maxSurge, the old ones shrink while the available Pods stay at least
//     replicas-maxUnavailable (unhealthy old replicas go first);
//   - Recreate: every old ReplicaSet is scaled to 0, and the new one is created only once
//     none of their Pods is active any more.
//
// A change of replicas in the middle of a rollout is spread over the active ReplicaSets in
// proportion to their size (the desired-replicas and max-replicas annotations), and a paused
// Deployment is only scaled. Revisions live in the deployment.kubernetes.io/revision
// annotation of the ReplicaSets and of the Deployment; an old template written back re-uses
// its ReplicaSet with a new revision (deployment.kubernetes.io/revision-history keeps the
// old ones), which is how kubectl rollout undo works. Old ReplicaSets scaled to 0 beyond
// spec.revisionHistoryLimit are deleted.
//
// Status follows Kubernetes: replica counts summed from the ReplicaSets' status, the
// Available, Progressing and ReplicaFailure conditions with Kubernetes' reasons and
// messages, and progressDeadlineSeconds measured from the Progressing condition's
// lastUpdateTime (the Deployment is requeued for the time that remains). Scaling is
// recorded as ScalingReplicaSet Events.
//
// One departure: Berth's status subresource writes only status, so the Deployment's revision
// annotation is written with an Update of the Deployment (metadata only, generation unchanged)
// where Kubernetes piggybacks it on the status update.
package deployment
