// Package rangealloc hands out the members of a numbered range (Service cluster IPs, node
// ports) exactly once across every apiserver that shares one etcd. Each allocated member is
// one etcd key under a prefix, created in a transaction that fails when the key exists, so
// etcd alone decides who wins; the in-memory set of members an Allocator believes taken is
// only a hint that spares it round trips. The allocation state therefore survives restarts
// and is shared by concurrent apiservers without a lock or a leader.
//
// The key's value records the owner (namespace/name) and the time of the allocation, which
// the apiserver's repair pass uses to free allocations no object holds any more.
package rangealloc
