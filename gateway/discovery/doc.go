// Package discovery owns the gateway's discovery endpoints, the ones every Kubernetes client
// reads before anything else: /version (version.Info), /api (APIVersions), /apis
// (APIGroupList), /apis/{group} (APIGroup) and /api/v1, /apis/{group}/{version}
// (APIResourceList), plus the aggregated discovery document (apidiscovery.k8s.io/v2
// APIGroupDiscoveryList) that kubectl asks /api and /apis for first.
//
// Everything is built from pkg/scheme and the gRPC service descriptors, so a resource added
// to the scheme appears here by itself: its names, short names, scope, kind, verbs, the "all"
// category for the workloads Kubernetes puts in it, and one subresource per subresource RPC
// its service has (UpdateStatus is status, GetScale/UpdateScale is scale as autoscaling/v1
// Scale, Bind is binding; Log and Exec, once they exist, are log and exec).
//
// Clients that prefer protobuf get JSON, never 406; the documents are computed once and
// served with an ETag, so a client's discovery cache revalidates with If-None-Match.
package discovery
