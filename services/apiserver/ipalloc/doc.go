// Package ipalloc owns Service cluster IPs: the range they come from
// (--service-cluster-ip-range, 10.96.0.0/16 by default), the addresses of it that are
// reserved as Kubernetes reserves them (the first, .1, for the range's gateway — Kubernetes'
// "kubernetes" Service —, and the tenth, .10, for the cluster DNS server — kube-dns), and an
// allocator that hands out the others exactly once, stored in etcd under
// /registry/ranges/serviceips/ (package rangealloc). DNS returns the DNS server's address of a
// range so that the node agent applies the same rule as the apiserver.
package ipalloc
