package status

import (
	"k8s.io/apimachinery/pkg/api/resource"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// QOSClass is the Pod's quality of service class, as Kubernetes computes it from cpu and
// memory: Guaranteed when every container limits both and requests what it limits,
// BestEffort when no container requests or limits either, Burstable otherwise.
func QOSClass(spec *corev1.PodSpec) string {
	containers := append(append([]*corev1.Container(nil), spec.GetInitContainers()...), spec.GetContainers()...)
	set, guaranteed := false, true
	for _, c := range containers {
		req, lim := c.GetResources().GetRequests(), c.GetResources().GetLimits()
		for _, r := range []string{"cpu", "memory"} {
			rq, hasReq := quantity(req, r)
			lq, hasLim := quantity(lim, r)
			if hasReq || hasLim {
				set = true
			}
			if !hasLim || (hasReq && rq.Cmp(lq) != 0) {
				guaranteed = false
			}
		}
	}
	switch {
	case !set:
		return "BestEffort"
	case guaranteed:
		return "Guaranteed"
	default:
		return "Burstable"
	}
}

// quantity reads a resource of rl; a zero or unparsable quantity counts as unset.
func quantity(rl map[string]string, name string) (resource.Quantity, bool) {
	s, ok := rl[name]
	if !ok {
		return resource.Quantity{}, false
	}
	q, err := resource.ParseQuantity(s)
	if err != nil || q.IsZero() {
		return resource.Quantity{}, false
	}
	return q, true
}
