// Package patch owns PATCH on the REST face: the four Kubernetes patch types applied to
// objects and to their /status and /scale subresources, written through the apiserver's
// gRPC API (package client).
//
// The gateway mounts NewHandler for PATCH requests on object paths; the Handler reads the
// target from the path (ParsePath), the patch type from Content-Type (PatchType) and the
// PatchOptions from the query, and answers with the stored object, or a Status through
// gateway/httpstatus. Patcher.Patch is the same without HTTP.
//
// Every patch is applied as the Kubernetes apiserver applies it: read the current object,
// write it as Kubernetes JSON (pkg/kubejson), apply the patch to that JSON, decode the
// result strictly back, and Update (UpdateStatus for /status, UpdateScale for /scale with an
// autoscaling/v1 Scale) with the resourceVersion read. When the update conflicts because of a
// concurrent write, and the patch did not set metadata.resourceVersion itself, the patch is
// applied again to a fresh read; a resourceVersion in the patch is a precondition (409 on a
// mismatch).
//
//   - application/json-patch+json: RFC 6902 (gopkg.in/evanphx/json-patch.v4), at most 10000
//     operations; an operation that does not apply (a failed test, a missing path) is 422.
//   - application/merge-patch+json: RFC 7386.
//   - application/strategic-merge-patch+json: k8s.io/apimachinery's strategicpatch over the
//     matching k8s.io/api type (corev1.Pod, appsv1.Deployment, ...), so lists merge by their
//     keys and the $patch, $retainKeys, $setElementOrder and $deleteFromPrimitiveList
//     directives behave exactly as in Kubernetes.
//   - application/apply-patch+yaml: server-side apply, simplified. A missing object is
//     created from the configuration (201); otherwise the configuration is merged onto the
//     live object with strategic-merge semantics (lists with merge keys merge by key, other
//     lists and scalars are replaced, null removes a field). Berth keeps no managedFields:
//     there are no field-ownership conflicts, force is accepted and changes nothing, and a
//     field dropped from a later configuration stays on the object instead of being removed.
//     As in Kubernetes, fieldManager is required and the configuration must carry the
//     target's apiVersion and kind; patch directives ($patch, ...) in it are a BadRequest.
//
// Unknown fields in the patched object follow fieldValidation: Strict rejects them (400),
// Warn (the default, as in Kubernetes) and Ignore drop them, Warn with a Warning header per
// field. A value of the wrong type is 422 under every directive. dryRun is refused (400): the
// gRPC API has no dry-run update.
package patch
