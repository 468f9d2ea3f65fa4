// Package namespace is the Namespace controller: it finishes the deletion of Namespaces.
//
// Deleting a Namespace only marks it: the apiserver sets its deletionTimestamp and the
// Terminating phase, refuses new content in it, and keeps it while spec.finalizers holds
// "kubernetes". This controller then deletes every namespaced object in it, resource by
// resource (every namespaced resource of the scheme), checks again after a short delay while
// anything remains (objects held by their own finalizers, or still going), and once the
// Namespace is empty removes "kubernetes" from spec.finalizers; the apiserver then removes the
// Namespace as soon as no metadata.finalizers remain.
//
// Like Kubernetes' namespace controller it reports progress in status.conditions
// (NamespaceContentRemaining, NamespaceFinalizersRemaining, NamespaceDeletionContentFailure,
// ...), with Kubernetes' reasons and messages, and records Events about the Namespace.
package namespace
