// Package watchcache owns the apiserver's in-memory view of one resource: a single etcd watch
// feeds a map of the current objects and a ring buffer of recent events. Lists are served from
// the map once it has caught up with the revision the caller needs; watchers read the ring at
// their own pace from any revision still in it, so a thousand watchers cost one etcd watch. A
// watcher that asks for, or falls behind to, a revision older than the ring gets ErrExpired and
// must re-list, as in Kubernetes.
//
// Memory: the map holds each object decoded once; the ring holds each change as etcd stored it
// (its protobuf value, shared with the map) and its selectable attributes, and points at the
// decoded states and the encoded watch events only weakly. A state is decoded once and shared
// by every watcher while it is current or anyone is sending it, and decoded again from the ring
// only for a watcher that reads a change long after it happened.
//
// Objects handed out by the cache are shared and must not be modified.
package watchcache
