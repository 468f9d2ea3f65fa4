// Package controlplane runs a set of Berth's roles in one process: the etcd they store in
// (embedded in the data directory, or an external cluster), the apiserver on its gRPC
// listener, and the operational HTTP endpoints (/healthz, /readyz, /metrics). `berth server`
// runs everything here; `berth apiserver` runs the same with the apiserver role only. Later
// roles (gateway, scheduler, controller, endpoints, agent) join through Config.
package controlplane
