// Package portalloc owns Service node ports: the range they come from
// (--service-node-port-range, 30000-32767 by default) and an allocator that hands each out
// exactly once, stored in etcd under /registry/ranges/servicenodeports/ (package rangealloc).
package portalloc
