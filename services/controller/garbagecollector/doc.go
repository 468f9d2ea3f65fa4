// Package garbagecollector is Berth's garbage collector: it deletes the objects whose owners are
// gone, and carries out the Foreground and Orphan deletion of owners, as Kubernetes' garbage
// collector does.
//
// It keeps a graph of every object (every resource of the scheme but Events) by uid, with its
// ownerReferences and its dependents, fed by the shared informers. The informers' handlers only
// change the graph and enqueue uids; the controller framework (package controller) reconciles
// one uid at a time from the graph, after every informer has synced:
//
//   - a "virtual" node, an owner named by an ownerReference but not (yet) seen by an informer,
//     is looked up live: gone (NotFound, or another uid under that name) removes it from the
//     graph and enqueues its dependents; present waits for the informer to see it;
//   - an object with ownerReferences is read live and each owner classified: present (seen by
//     an informer, or found by a live GET), dangling (absent) or waiting for its dependents
//     (being deleted with the "foregroundDeletion" finalizer). With a present owner left the
//     dangling and waiting references are removed from the object; with none it is deleted,
//     with propagationPolicy Foreground when it has dependents of its own and a waiting owner,
//     else by its own finalizers ("orphan": Orphan, "foregroundDeletion": Foreground) or
//     Background;
//   - an owner being deleted with the "orphan" finalizer has its ownerReference removed from
//     every dependent, then the finalizer;
//   - an owner being deleted with the "foregroundDeletion" finalizer waits until no dependent
//     with blockOwnerDeletion: true is left (the others are deleted too, without blocking),
//     then loses the finalizer, which lets the apiserver remove it.
//
// Owners live in their dependent's namespace, or are cluster-scoped (a Node owns its Lease in
// kube-node-lease). An owner never counts as absent from the graph alone: a live GET through the
// apiserver settles it, so a dependent created moments after its owner is never collected.
// Writes carry the resourceVersion read (deletions a uid and resourceVersion precondition) and
// re-read on Conflict. Like Kubernetes' garbage collector it records no Events on success; it
// logs what it deletes at info level.
package garbagecollector
