// Package httpstatus is the one place the REST face turns an error into Kubernetes' answer: a
// `Status` body (kind Status, apiVersion v1, status Failure, message, reason, details with the
// causes per field, code) sent with the matching HTTP code. Errors arrive as Kubernetes
// *StatusError (from the gRPC client, through pkg/apistatus) or as plain errors of the
// gateway's own (a body that does not decode is a BadRequest, never a 500).
package httpstatus
