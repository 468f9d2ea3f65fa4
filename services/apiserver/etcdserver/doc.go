// Package etcdserver runs the embedded etcd that `berth server` stores its objects in by
// default, and dials an etcd cluster, embedded or external, for the apiserver.
package etcdserver
