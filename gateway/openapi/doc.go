// Package openapi owns the gateway's OpenAPI v3 documents: /openapi/v3 (the index of group
// versions, each with a hashed serverRelativeURL) and one document per group version
// (/openapi/v3/api/v1, /openapi/v3/apis/apps/v1, ...), with the paths and operations the
// gateway serves and the schemas of every object they carry, under Kubernetes' names
// (io.k8s.api.core.v1.Pod) and with Kubernetes' extensions (x-kubernetes-group-version-kind,
// x-kubernetes-int-or-string, x-kubernetes-patch-strategy and -merge-key).
//
// The schemas are generated from the proto message descriptors, so they describe exactly the
// fields Berth accepts: a field Kubernetes has and Berth does not is absent, and `kubectl
// explain` or a validating client rejects it. The walk goes through each message alongside
// the Kubernetes Go type it mirrors (k8s.io/api), which gives every schema its Kubernetes name
// and its description, every field its documentation, the special encodings (Time and
// MicroTime as date-time strings, Quantity as string or number, IntOrString), the required
// fields (those without omitempty) and the strategic-merge keys. Messages without a Kubernetes
// counterpart are named dev.berth.<group>.v1.<Message>.
//
// kubectl reads these documents for `kubectl explain` and to decide whether the server
// validates fields itself: every PATCH operation lists the fieldValidation query parameter,
// so `kubectl apply --validate=strict` (the default) sends fieldValidation=Strict and leaves
// validation to the apiserver. /openapi/v2 is not served (404); kubectl falls back to its
// compiled-in types where it would use it.
package openapi
