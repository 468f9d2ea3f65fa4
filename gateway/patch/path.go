package patch

import (
	"net/http"
	"strings"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/berth-dev/berth/pkg/scheme"
)

// The subresources a PATCH can address.
const (
	// SubresourceStatus is /status: the patch is applied to the whole object and only its
	// status is written (UpdateStatus).
	SubresourceStatus = "status"
	// SubresourceScale is /scale: the patch is applied to the autoscaling/v1 Scale
	// (UpdateScale).
	SubresourceScale = "scale"
)

// Target is the object (or subresource) a PATCH request addresses.
type Target struct {
	// Resource is the kind of object.
	Resource *scheme.Resource
	// Namespace is empty for cluster-scoped resources.
	Namespace string
	// Name is the object's name.
	Name string
	// Subresource is "", SubresourceStatus or SubresourceScale.
	Subresource string
}

// GroupResource is the target's resource as Kubernetes errors name it ("deployments.apps").
func (t Target) GroupResource() schema.GroupResource {
	return schema.GroupResource{Group: t.Resource.Group, Resource: t.Resource.Plural}
}

// ParsePath reads the target of a PATCH from a Kubernetes REST path (already unescaped, as
// in http.Request.URL.Path):
//
//	/api/v1/namespaces/{namespace}/{plural}/{name}[/{subresource}]
//	/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}[/{subresource}]
//	/api/v1/{plural}/{name}[/{subresource}]                 (cluster-scoped: nodes, namespaces)
//	/apis/{group}/{version}/{plural}/{name}[/{subresource}] (cluster-scoped)
//
// An unknown group, version, resource or subresource, a namespaced resource addressed
// without its namespace (or the reverse), and an empty segment are NotFound (404); a
// collection path (no name) is MethodNotAllowed (405), as the Kubernetes apiserver answers.
func ParsePath(path string) (Target, error) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for _, s := range segs {
		if s == "" {
			return Target{}, notFound()
		}
	}
	var group, version string
	var rest []string
	switch {
	case len(segs) >= 2 && segs[0] == "api":
		version, rest = segs[1], segs[2:]
	case len(segs) >= 3 && segs[0] == "apis" && segs[1] != "":
		group, version, rest = segs[1], segs[2], segs[3:]
	default:
		return Target{}, notFound()
	}
	if len(rest) == 0 {
		return Target{}, notFound()
	}
	var t Target
	if len(rest) >= 3 && rest[0] == "namespaces" {
		if r := lookup(group, version, rest[2]); r != nil && r.Namespaced {
			t.Resource, t.Namespace, rest = r, rest[1], rest[3:]
		}
	}
	if t.Resource == nil {
		r := lookup(group, version, rest[0])
		if r == nil || r.Namespaced {
			return Target{}, notFound()
		}
		t.Resource, rest = r, rest[1:]
	}
	switch len(rest) {
	case 0:
		return Target{}, kerrors.NewGenericServerResponse(http.StatusMethodNotAllowed, "patch", t.GroupResource(), "", "", 0, false)
	case 1:
		t.Name = rest[0]
	case 2:
		t.Name, t.Subresource = rest[0], rest[1]
		switch {
		case t.Subresource == SubresourceStatus && t.Resource.HasStatus:
		case t.Subresource == SubresourceScale && t.Resource.HasScale:
		default:
			return Target{}, notFound()
		}
	default:
		return Target{}, notFound()
	}
	return t, nil
}

// lookup finds the resource served at group/version under its plural name.
func lookup(group, version, plural string) *scheme.Resource {
	for _, r := range scheme.All {
		if r.Group == group && r.Version == version && r.Plural == plural {
			return r
		}
	}
	return nil
}

func notFound() error {
	return kerrors.NewGenericServerResponse(http.StatusNotFound, "patch", schema.GroupResource{}, "", "", 0, false)
}
