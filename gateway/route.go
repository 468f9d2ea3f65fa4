package gateway

import (
	"strings"

	"github.com/berth-dev/berth/pkg/scheme"
)

// Subresources a path can address.
const (
	subStatus  = "status"
	subScale   = "scale"
	subBinding = "binding"
	subLog     = "log"
)

// route is what a Kubernetes REST path addresses: one resource's collection (all namespaces
// when namespace is empty), one object, or one subresource of an object.
type route struct {
	res *scheme.Resource
	// namespace is empty for cluster-scoped resources and for lists across namespaces.
	namespace string
	// name is empty for a collection.
	name string
	// sub is "", subStatus, subScale, subBinding or subLog.
	sub string
	// watchPath is set for the legacy /api/v1/watch/... form of a watch.
	watchPath bool
}

// collection tells whether the route is a list path.
func (rt route) collection() bool { return rt.name == "" }

// parseRoute reads a Kubernetes REST path:
//
//	/api/v1[/watch]/{plural}[/{name}[/{sub}]]                        cluster-scoped, or every namespace
//	/api/v1[/watch]/namespaces/{namespace}/{plural}[/{name}[/{sub}]]
//	/apis/{group}/{version}[/watch]/...                              the same for named groups
//
// It returns false for anything else (discovery paths, unknown resources or subresources,
// empty segments): the caller answers those.
func parseRoute(path string) (route, bool) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for _, s := range segs {
		if s == "" {
			return route{}, false
		}
	}
	var group, version string
	var rest []string
	switch {
	case len(segs) >= 3 && segs[0] == "api":
		version, rest = segs[1], segs[2:]
	case len(segs) >= 4 && segs[0] == "apis":
		group, version, rest = segs[1], segs[2], segs[3:]
	default:
		return route{}, false
	}
	var rt route
	if rest[0] == "watch" && len(rest) > 1 {
		rt.watchPath, rest = true, rest[1:]
	}
	// namespaces/{ns}/{plural}/... addresses a namespaced resource; otherwise the first
	// segment is the plural ("namespaces/{name}/status" is the Namespace's subresource).
	if len(rest) >= 3 && rest[0] == "namespaces" {
		if r := lookup(group, version, rest[2]); r != nil && r.Namespaced {
			rt.res, rt.namespace, rest = r, rest[1], rest[3:]
		}
	}
	if rt.res == nil {
		rt.res = lookup(group, version, rest[0])
		if rt.res == nil {
			return route{}, false
		}
		rest = rest[1:]
	}
	if len(rest) > 0 && rt.res.Namespaced && rt.namespace == "" {
		// One object of a namespaced resource needs its namespace.
		return route{}, false
	}
	switch len(rest) {
	case 0:
	case 1:
		rt.name = rest[0]
	case 2:
		rt.name, rt.sub = rest[0], rest[1]
		if rt.watchPath || !hasSubresource(rt.res, rt.sub) {
			return route{}, false
		}
	default:
		return route{}, false
	}
	return rt, true
}

func hasSubresource(r *scheme.Resource, sub string) bool {
	switch sub {
	case subStatus:
		return r.HasStatus
	case subScale:
		return r.HasScale
	case subBinding, subLog:
		return r == scheme.Pods
	}
	return false
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

// prefix is the path prefix of a resource's API group version: "/api/v1" or "/apis/apps/v1".
func prefix(r *scheme.Resource) string {
	if r.Group == "" {
		return "/api/" + r.Version
	}
	return "/apis/" + r.Group + "/" + r.Version
}
