// Package registry owns the Kubernetes semantics of storing objects, once, for every resource:
// a generic Store[T] creates, reads, lists, updates, deletes and watches any object type over
// the etcd storage layer and its watch cache. It assigns uid, creationTimestamp,
// resourceVersion and generation, enforces optimistic concurrency, keeps status and spec
// writes apart, runs deletion through finalizers and grace periods, and implements
// Kubernetes' resourceVersion, selector and pagination rules for List and Watch.
//
// What differs between resources — defaulting, validation, admission, selectable fields,
// deletion grace — comes in through a Strategy; there is no per-resource storage code.
package registry
