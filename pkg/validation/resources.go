package validation

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// standardContainerResources are the resources a container may name without a domain
// (besides hugepages-<size>).
var standardContainerResources = map[string]bool{"cpu": true, "memory": true, "ephemeral-storage": true}

// resourceRequirements validates a container's requests and limits: known or domain-qualified
// names, quantities that parse and are not negative (integers for extended resources),
// requests no greater than limits, and requests equal to limits for extended resources.
func resourceRequirements(r *corev1.ResourceRequirements, fldPath *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	var errs field.ErrorList
	limPath, reqPath := fldPath.Child("limits"), fldPath.Child("requests")
	limits := map[string]resource.Quantity{}
	for _, name := range sortedKeys(r.Limits) {
		p := limPath.Key(name)
		errs = append(errs, containerResourceName(name, p)...)
		q, qerrs := quantity(name, r.Limits[name], p)
		errs = append(errs, qerrs...)
		if len(qerrs) == 0 {
			limits[name] = q
		}
	}
	for _, name := range sortedKeys(r.Requests) {
		p := reqPath.Key(name)
		errs = append(errs, containerResourceName(name, p)...)
		q, qerrs := quantity(name, r.Requests[name], p)
		errs = append(errs, qerrs...)
		if len(qerrs) > 0 {
			continue
		}
		if lim, ok := limits[name]; ok {
			switch {
			case q.Cmp(lim) != 0 && !overcommitAllowed(name):
				errs = append(errs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be equal to %s limit of %s", name, lim.String())))
			case q.Cmp(lim) > 0:
				errs = append(errs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, lim.String())))
			}
		} else if _, set := r.Limits[name]; !set && !overcommitAllowed(name) {
			errs = append(errs, field.Required(limPath, "Limit must be set for non overcommitable resources"))
		}
	}
	return errs
}

// quantity parses a resource quantity and checks it is not negative, and an integer for
// resources that count whole things.
func quantity(name, value string, fldPath *field.Path) (resource.Quantity, field.ErrorList) {
	q, err := resource.ParseQuantity(value)
	if err != nil {
		return q, field.ErrorList{field.Invalid(fldPath, value, err.Error())}
	}
	if q.Sign() < 0 {
		return q, field.ErrorList{field.Invalid(fldPath, q.String(), isNegativeErrorMsg)}
	}
	if extendedResource(name) && q.MilliValue()%1000 != 0 {
		return q, field.ErrorList{field.Invalid(fldPath, q.String(), "must be an integer")}
	}
	return q, nil
}

// ResourceQuantity validates one resource quantity as kube-apiserver validates a Node's capacity:
// it must parse and not be negative.
func ResourceQuantity(name, value string, fldPath *field.Path) field.ErrorList {
	_, errs := quantity(name, value, fldPath)
	return errs
}

// containerResourceName checks a resource name a container may request: cpu, memory,
// ephemeral-storage, hugepages-<size>, a kubernetes.io/ resource or an extended resource
// ("example.com/dongle").
func containerResourceName(name string, fldPath *field.Path) field.ErrorList {
	errs := qualifiedName(name, fldPath)
	if len(errs) > 0 {
		return errs
	}
	if !strings.Contains(name, "/") {
		if !standardContainerResources[name] && !strings.HasPrefix(name, "hugepages-") {
			return field.ErrorList{field.Invalid(fldPath, name, "must be a standard resource for containers")}
		}
		return nil
	}
	if !nativeResource(name) && !extendedResource(name) {
		return field.ErrorList{field.Invalid(fldPath, name, "doesn't follow extended resource name standard")}
	}
	return nil
}

// nodeResourceName checks a resource name a Node may report.
func nodeResourceName(name string, fldPath *field.Path) field.ErrorList {
	errs := qualifiedName(name, fldPath)
	if len(errs) > 0 {
		return errs
	}
	if !strings.Contains(name, "/") && !standardContainerResources[name] && !strings.HasPrefix(name, "hugepages-") && name != "pods" {
		return field.ErrorList{field.Invalid(fldPath, name, "must be a standard resource type or fully qualified")}
	}
	return nil
}

// nativeResource: Kubernetes' own resources, unqualified or in a kubernetes.io domain.
func nativeResource(name string) bool {
	return !strings.Contains(name, "/") || strings.Contains(name, "kubernetes.io/")
}

// extendedResource: a domain-qualified resource outside kubernetes.io ("example.com/dongle").
func extendedResource(name string) bool {
	if nativeResource(name) || strings.HasPrefix(name, "requests.") {
		return false
	}
	return len(validation.IsQualifiedName("requests."+name)) == 0
}

// overcommitAllowed: requests may be below limits for native resources except hugepages.
func overcommitAllowed(name string) bool {
	return nativeResource(name) && !strings.HasPrefix(name, "hugepages-")
}

var (
	cpuDivisors    = []string{"1m", "1"}
	memoryDivisors = []string{"1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"}
)

// resourceDivisor checks the divisor of a resourceFieldRef against the resource it divides.
func resourceDivisor(res, divisor string, fldPath *field.Path) field.ErrorList {
	if divisor == "" {
		return nil
	}
	q, err := resource.ParseQuantity(divisor)
	if err != nil {
		return field.ErrorList{field.Invalid(fldPath, divisor, err.Error())}
	}
	if q.IsZero() {
		return nil
	}
	allowed, what := memoryDivisors, ""
	switch {
	case res == "limits.cpu" || res == "requests.cpu":
		allowed, what = cpuDivisors, "the cpu resource"
	case res == "limits.memory" || res == "requests.memory":
		what = "the memory resource"
	case res == "limits.ephemeral-storage" || res == "requests.ephemeral-storage":
		what = "the local ephemeral storage resource"
	case strings.HasPrefix(res, "limits.hugepages-") || strings.HasPrefix(res, "requests.hugepages-"):
		what = "the hugepages resource"
	default:
		return nil
	}
	for _, a := range allowed {
		if q.String() == a {
			return nil
		}
	}
	return field.ErrorList{field.Invalid(fldPath, res, fmt.Sprintf("only divisor's values %s are supported with %s", strings.Join(allowed, ", "), what))}
}
