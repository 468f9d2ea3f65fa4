// Package apiserver assembles Berth's API server: it connects to etcd (embedded or external),
// builds one generic registry store per resource with that resource's strategy, serves each
// resource's generated gRPC service through one generic adapter (plus the Pod binding and the
// scale subresources), converts errors to gRPC status in one interceptor, creates the built-in
// Namespaces, and compacts etcd's history. Run(ctx, cfg) is all `berth apiserver` and
// `berth server` call.
package apiserver
