// Package controller is Berth's controller manager: Run starts every controller loop (today the
// Namespace controller; the workload, garbage-collection and Node controllers join it) against
// the apiserver's gRPC API, sharing one informer per resource. `berth controller` runs it alone;
// `berth server` runs it in-process.
package controller
