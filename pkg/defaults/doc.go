// Package defaults owns the defaulting of API objects: it fills in the fields Kubernetes'
// kube-apiserver fills in when an object is created or updated (restartPolicy Always,
// imagePullPolicy from the image tag, protocol TCP, Deployment strategy 25%/25%, ...), so that a
// manifest written for Kubernetes reads back from Berth the way it reads back from Kubernetes.
//
// The apiserver calls Object (or ObjectUpdate on updates) on every object it is about to store,
// before validation. Defaulting is idempotent and never fails: values it cannot interpret (an
// unparsable quantity, an unknown enum) are left alone for package validation to reject.
//
// Where Berth's objects differ in shape from Kubernetes' (quantities are strings, IntOrString is
// a google.protobuf.Value), defaulting also does what Kubernetes' serialization does: it rewrites
// parsable quantities in their canonical form ("0.5" becomes "500m") and merges a Secret's
// stringData into its data.
package defaults
