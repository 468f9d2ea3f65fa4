// Package queue holds the Pods waiting to be scheduled, in three places, as Kubernetes'
// scheduling queue does:
//
//   - the active queue: Pods ready for an attempt, highest spec.priority first, then the
//     longest waiting; Pop takes from here;
//   - the backoff queue: Pods whose last attempt failed, each waiting 1s, doubling with every
//     attempt up to 10s, before going back to the active queue;
//   - the unschedulable set: Pods no Node fitted. They stay until something that could make
//     them fit happens (MoveAllToActiveOrBackoff: a Node added or changed, a Pod deleted) and
//     at most a minute, then go back through the backoff queue.
//
// A Pod popped is "in flight" until Done (it was assumed onto a Node) or Requeue (the attempt
// failed). Changes seen while it is in flight are not lost: an update is kept for the requeue,
// a deletion drops it, and a move request during the attempt sends an unschedulable Pod to the
// backoff queue instead of the unschedulable set.
//
// The queue is keyed by "namespace/name" and safe for concurrent use. Run moves Pods between
// the queues on a one-second tick until its context ends, then Close wakes Pop.
package queue
