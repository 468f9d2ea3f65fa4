package discovery

import (
	"sort"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-dev/berth/gateway/internal/subresource"
	"github.com/berth-dev/berth/pkg/scheme"
)

// verbs are the verbs the gateway serves on every resource, in Kubernetes' (sorted) order.
var verbs = []string{"create", "delete", "get", "list", "patch", "update", "watch"}

// allCategory are the resources Kubernetes puts in the "all" category (kubectl get all).
var allCategory = map[string]bool{
	"pods": true, "services": true, "replicationcontrollers": true,
	"deployments.apps": true, "replicasets.apps": true, "daemonsets.apps": true, "statefulsets.apps": true,
	"jobs.batch": true, "cronjobs.batch": true, "horizontalpodautoscalers.autoscaling": true,
}

// groupVersion is one API group version and its resources.
type groupVersion struct {
	group, version string
	resources      []*scheme.Resource
}

func (gv *groupVersion) String() string {
	if gv.group == "" {
		return gv.version
	}
	return gv.group + "/" + gv.version
}

// groupVersions lists the group versions of resources: the core group first, then the named
// groups sorted by name (Kubernetes orders /apis by priority; the sort keeps it stable).
// Each group version's resources are sorted by plural name.
func groupVersions(resources []*scheme.Resource) []*groupVersion {
	byKey := map[string]*groupVersion{}
	var out []*groupVersion
	for _, r := range resources {
		k := r.APIVersion()
		gv := byKey[k]
		if gv == nil {
			gv = &groupVersion{group: r.Group, version: r.Version}
			byKey[k] = gv
			out = append(out, gv)
		}
		gv.resources = append(gv.resources, r)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].group == "") != (out[j].group == "") {
			return out[i].group == ""
		}
		return out[i].group < out[j].group
	})
	for _, gv := range out {
		sort.Slice(gv.resources, func(i, j int) bool { return gv.resources[i].Plural < gv.resources[j].Plural })
	}
	return out
}

func categories(r *scheme.Resource) []string {
	if allCategory[r.GroupResource()] {
		return []string{"all"}
	}
	return nil
}

// resourceList is the APIResourceList of a group version: each resource, then its
// subresources, sorted by name as the Kubernetes apiserver lists them.
func resourceList(gv *groupVersion) *kmetav1.APIResourceList {
	l := &kmetav1.APIResourceList{
		TypeMeta:     kmetav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
		GroupVersion: gv.String(),
		APIResources: []kmetav1.APIResource{},
	}
	for _, r := range gv.resources {
		l.APIResources = append(l.APIResources, kmetav1.APIResource{
			Name: r.Plural, SingularName: r.Singular, Namespaced: r.Namespaced, Kind: r.Kind,
			Verbs: verbs, ShortNames: r.ShortNames, Categories: categories(r),
		})
		for _, s := range subresource.Of(r) {
			res := kmetav1.APIResource{
				Name: r.Plural + "/" + s.Name, Namespaced: r.Namespaced, Kind: s.Kind, Verbs: s.Verbs,
			}
			if s.Group != r.Group || s.Version != r.Version {
				res.Group, res.Version = s.Group, s.Version
			}
			l.APIResources = append(l.APIResources, res)
		}
	}
	return l
}

// apiGroup is the APIGroup of a named group with its one version.
func apiGroup(gv *groupVersion) kmetav1.APIGroup {
	v := kmetav1.GroupVersionForDiscovery{GroupVersion: gv.String(), Version: gv.version}
	return kmetav1.APIGroup{
		TypeMeta:         kmetav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"},
		Name:             gv.group,
		Versions:         []kmetav1.GroupVersionForDiscovery{v},
		PreferredVersion: v,
	}
}

// groupDiscovery is a group's entry in the aggregated discovery document.
func groupDiscovery(gv *groupVersion) apidiscoveryv2.APIGroupDiscovery {
	v := apidiscoveryv2.APIVersionDiscovery{Version: gv.version, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}
	for _, r := range gv.resources {
		scope := apidiscoveryv2.ScopeCluster
		if r.Namespaced {
			scope = apidiscoveryv2.ScopeNamespace
		}
		rd := apidiscoveryv2.APIResourceDiscovery{
			Resource:         r.Plural,
			ResponseKind:     &kmetav1.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind},
			Scope:            scope,
			SingularResource: r.Singular,
			Verbs:            verbs,
			ShortNames:       r.ShortNames,
			Categories:       categories(r),
		}
		for _, s := range subresource.Of(r) {
			rd.Subresources = append(rd.Subresources, apidiscoveryv2.APISubresourceDiscovery{
				Subresource:  s.Name,
				ResponseKind: &kmetav1.GroupVersionKind{Group: s.Group, Version: s.Version, Kind: s.Kind},
				Verbs:        s.Verbs,
			})
		}
		v.Resources = append(v.Resources, rd)
	}
	g := apidiscoveryv2.APIGroupDiscovery{Versions: []apidiscoveryv2.APIVersionDiscovery{v}}
	g.Name = gv.group
	return g
}
