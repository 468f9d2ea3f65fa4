package ctl

import (
	"fmt"
	"strings"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/berth-dev/berth/pkg/scheme"
)

// allCategory is what the kind "all" stands for, in kubectl's order: the workloads and the
// Services in front of them.
var allCategory = []*scheme.Resource{scheme.Pods, scheme.ReplicationControllers, scheme.Services, scheme.Deployments, scheme.ReplicaSets}

// target is one kind a command works on and the names it was given (none: all of them).
type target struct {
	r     *scheme.Resource
	names []string
}

// parseTargets reads kubectl's resource arguments: "KIND[,KIND...] [NAME...]" or
// "KIND/NAME [KIND/NAME...]". single tells whether exactly one object was named, which makes
// -o json|yaml print it alone.
func parseTargets(args []string) (targets []target, single bool, err error) {
	if len(args) == 0 {
		return nil, false, usagef("you must specify the type of resource to get. Use \"berthctl api-resources\" for a complete list of supported resources")
	}
	if strings.Contains(args[0], "/") {
		for _, a := range args {
			kind, name, ok := strings.Cut(a, "/")
			if !ok {
				return nil, false, usagef("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'berthctl get resource/<resource_name>' instead of 'berthctl get resource resource/<resource_name>'")
			}
			if strings.Contains(name, "/") {
				return nil, false, usagef("arguments in resource/name form may not have more than one slash")
			}
			if kind == "" || name == "" {
				return nil, false, usagef("arguments in resource/name form must have a single resource and name")
			}
			r, err := scheme.ForName(kind)
			if err != nil {
				return nil, false, err
			}
			if n := len(targets); n > 0 && targets[n-1].r == r {
				targets[n-1].names = append(targets[n-1].names, name)
			} else {
				targets = append(targets, target{r: r, names: []string{name}})
			}
		}
		return targets, len(args) == 1, nil
	}
	names := args[1:]
	for _, n := range names {
		if strings.Contains(n, "/") {
			return nil, false, usagef("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'berthctl get resource/<resource_name>' instead of 'berthctl get resource resource/<resource_name>'")
		}
	}
	seen := map[*scheme.Resource]bool{}
	for _, kind := range strings.Split(args[0], ",") {
		if kind == "" {
			continue
		}
		rs := allCategory
		if strings.ToLower(kind) != "all" {
			r, err := scheme.ForName(kind)
			if err != nil {
				return nil, false, err
			}
			rs = []*scheme.Resource{r}
		}
		for _, r := range rs {
			if !seen[r] {
				seen[r] = true
				targets = append(targets, target{r: r, names: names})
			}
		}
	}
	if len(targets) == 0 {
		return nil, false, usagef("you must specify the type of resource")
	}
	single = len(targets) == 1 && len(names) == 1 && !strings.Contains(args[0], ",")
	return targets, single, nil
}

// namespaceFor is the namespace a request about r goes to: "" for cluster-scoped resources
// and across all namespaces.
func namespaceFor(r *scheme.Resource, ns string, all bool) string {
	if !r.Namespaced || all {
		return ""
	}
	return ns
}

// withSource prefixes an API error's message with what was being done to which file,
// keeping its reason, as kubectl does: `error when creating "pod.yaml": ...`.
func withSource(verb, source string, err error) error {
	if source == "" || err == nil {
		return err
	}
	se, ok := err.(*kerrors.StatusError)
	if !ok {
		return fmt.Errorf("error when %s %q: %w", verb, source, err)
	}
	if se.ErrStatus.Reason == "Invalid" && se.ErrStatus.Details != nil {
		return err
	}
	c := *se
	c.ErrStatus.Message = fmt.Sprintf("error when %s %q: %s", verb, source, se.ErrStatus.Message)
	return &c
}

// groupResource is r as Kubernetes errors name it ("pods", "deployments.apps").
func groupResource(r *scheme.Resource) schema.GroupResource {
	return schema.GroupResource{Group: r.Group, Resource: r.Plural}
}
