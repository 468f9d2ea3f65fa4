// Package gateway is Berth's REST face: Kubernetes' HTTP API, on Kubernetes' paths and in
// Kubernetes' JSON, in front of the apiserver's gRPC API, so that kubectl, client-go and curl
// work against Berth as against a Kubernetes apiserver.
//
// The generated grpc-gateway handlers (proto/gateway.yaml, the *.pb.gw.go files) map every
// gRPC method to its path: GET get and list (also across namespaces, /api/v1/pods), POST
// create (201), PUT update, /status and /scale, DELETE (200 with the object; options from the
// query or a DeleteOptions body), POST pods/{name}/binding. New wraps them with what HTTP
// rules cannot say:
//
//   - a marshaler that speaks Kubernetes JSON through pkg/kubejson, for every Accept header
//     (a client that prefers protobuf gets JSON, never a 406);
//   - the body checks of writes, before the generated handler sees the request
//     (gateway/internal/body): 3 MiB at most (413), JSON, YAML or Kubernetes' protobuf (what
//     client-go's typed clients send) and nothing else (415), strict decoding with
//     fieldValidation (Strict: 400; Warn: Warning headers), the kind, name and namespace of
//     the body against the path (400);
//   - errors as Kubernetes Status bodies with their HTTP code, through gateway/httpstatus, for
//     the generated handlers' errors and for unknown paths (404) and methods (405);
//   - watches: ?watch=true on any list path, and the legacy /api/v1/watch/... paths, stream
//     newline-delimited events, flushed one by one, for as long as the client stays;
//   - Tables (gateway/table) for a get, list or watch whose Accept header asks as=Table;
//   - pods/log: GET .../pods/{name}/log (container, follow, previous, sinceSeconds,
//     sinceTime, timestamps, tailLines, limitBytes) streams the PodService.Log chunks as plain
//     text, as kubectl logs [-f] expects.
//
// New mounts the other parts of the REST face, plain http.Handlers that Options can replace:
// PATCH on object, /status and /scale paths (gateway/patch), discovery (/version, /api,
// /apis, ..., gateway/discovery) and OpenAPI (/openapi/v2, /openapi/v3/..., gateway/openapi).
// They read paths and bodies themselves, and must not import this package (it imports them).
// The Watch and Log methods have no HTTP rule: the handlers above serve them. Exec has no
// REST form yet (kubectl exec speaks WebSocket or SPDY).
//
// Run serves the gateway as a process of its own (`berth gateway`); `berth server` mounts the
// handler New returns next to /healthz, /readyz and /metrics, with a client that calls its
// apiserver in process. Gets, lists and watches encode each stored object once for all their
// readers: a kubejson.Cache keeps the JSON of the objects they answer with.
package gateway
