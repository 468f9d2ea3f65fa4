// Package apistatus is the one place API errors cross the gRPC boundary. Inside Berth an API
// error is a Kubernetes *errors.StatusError (k8s.io/apimachinery/pkg/api/errors: NotFound,
// AlreadyExists, Conflict, Invalid with field causes, Expired, ...). ToGRPC turns one into a gRPC
// status whose code comes from a single table and whose details carry the full Status; FromGRPC
// turns it back on the client side, so a caller of the gRPC API can use errors.IsNotFound and
// friends exactly as a client-go user would.
package apistatus
