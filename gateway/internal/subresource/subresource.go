// Package subresource owns the one table of the subresources the gateway serves: which gRPC
// RPC of a resource's service makes which Kubernetes subresource, with its kind and verbs.
// Discovery and the OpenAPI documents both list a resource's subresources from it, so a
// subresource appears in both as soon as its RPC exists.
package subresource

import (
	"sort"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/berth-dev/berth/pkg/scheme"
)

// Subresource is one subresource of a resource.
type Subresource struct {
	// Name is the path segment after the object's name: "status", "scale", "binding".
	Name string
	// Group, Version and Kind are those of the object the subresource takes and returns
	// (autoscaling/v1 Scale for scale; the parent's kind for status).
	Group, Version, Kind string
	// Verbs are the Kubernetes verbs it serves, sorted.
	Verbs []string
	// RPC is the gRPC method that serves it.
	RPC string
}

// rpcs maps the RPC that serves a subresource to the subresource, as Kubernetes lists it;
// an empty Kind means the parent's group, version and kind. pods/log and pods/exec appear as
// soon as PodService has Log and Exec.
var rpcs = []Subresource{
	{RPC: "UpdateStatus", Name: "status", Verbs: []string{"get", "patch", "update"}},
	{RPC: "GetScale", Name: "scale", Group: "autoscaling", Version: "v1", Kind: "Scale", Verbs: []string{"get", "patch", "update"}},
	{RPC: "Bind", Name: "binding", Version: "v1", Kind: "Binding", Verbs: []string{"create"}},
	{RPC: "Log", Name: "log", Verbs: []string{"get"}},
	{RPC: "Exec", Name: "exec", Version: "v1", Kind: "PodExecOptions", Verbs: []string{"create", "get"}},
}

// Of lists the subresources r's gRPC service serves, sorted by name.
func Of(r *scheme.Resource) []Subresource {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(r.Service))
	if err != nil {
		return nil
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil
	}
	var out []Subresource
	for _, s := range rpcs {
		if sd.Methods().ByName(protoreflect.Name(s.RPC)) == nil {
			continue
		}
		if s.Kind == "" {
			s.Group, s.Version, s.Kind = r.Group, r.Version, r.Kind
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
