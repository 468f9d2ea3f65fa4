// Package client is Berth's generic gRPC client. One ResourceClient, driven by the resource table
// of package scheme, serves every kind: it calls the resource's service methods by name
// (scheme.Resource.Method) with messages built by the table (New, NewList, NewWatchEvent) and
// reads lists and watch events through protobuf reflection, so there is no per-resource code.
//
// Errors are Kubernetes *errors.StatusError values (see package apistatus), so callers test
// them with k8s.io/apimachinery/pkg/api/errors:
//
//	c, err := client.Dial(ctx, "127.0.0.1:6443")
//	...
//	defer c.Close()
//	pod, err := c.Resource(scheme.Pods).Get(ctx, "default", "nginx")
//	if kerrors.IsNotFound(err) { ... }
//
// The typed clients generated from the protos work on the same connection:
// corev1.NewPodServiceClient(c.Conn()).
package client
