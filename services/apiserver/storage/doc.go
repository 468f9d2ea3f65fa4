// Package storage owns the apiserver's access to etcd: create-if-absent, read, compare-and-swap
// update and delete on single keys, paginated range reads at a revision, and watches on a
// prefix. It deals in raw bytes and etcd revisions; decoding, validation and Kubernetes
// semantics live above it in the registry. Its errors are the sentinels below, wrapped with the
// key they concern.
package storage
