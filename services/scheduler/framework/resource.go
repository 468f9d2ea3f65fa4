package framework

import (
	"maps"

	"k8s.io/apimachinery/pkg/api/resource"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Resource names the scheduler knows by name; every other name is an extended (scalar)
// resource counted in its own units.
const (
	ResourceCPU              = "cpu"
	ResourceMemory           = "memory"
	ResourceEphemeralStorage = "ephemeral-storage"
	ResourcePods             = "pods"
)

// Defaults counted for a container that requests no CPU or memory, when scoring only (as
// Kubernetes does), so that Pods without requests still spread.
const (
	DefaultMilliCPURequest int64 = 100               // 0.1 core
	DefaultMemoryRequest   int64 = 200 * 1024 * 1024 // 200 MiB
)

// Resource is an amount of each resource the scheduler accounts: CPU in millicores, memory and
// ephemeral storage in bytes, a number of Pods, and extended resources (example.com/gpu,
// hugepages-2Mi, ...) in their own units.
type Resource struct {
	MilliCPU         int64
	Memory           int64
	EphemeralStorage int64
	// Pods is a number of Pods: the allocatable "pods" of a Node.
	Pods int64
	// Scalar holds the extended resources; nil when there are none.
	Scalar map[string]int64
}

// Get returns the amount of the named resource.
func (r *Resource) Get(name string) int64 {
	switch name {
	case ResourceCPU:
		return r.MilliCPU
	case ResourceMemory:
		return r.Memory
	case ResourceEphemeralStorage:
		return r.EphemeralStorage
	case ResourcePods:
		return r.Pods
	}
	return r.Scalar[name]
}

// Add adds o to r.
func (r *Resource) Add(o *Resource) {
	r.MilliCPU += o.MilliCPU
	r.Memory += o.Memory
	r.EphemeralStorage += o.EphemeralStorage
	r.Pods += o.Pods
	for k, v := range o.Scalar {
		if r.Scalar == nil {
			r.Scalar = make(map[string]int64, len(o.Scalar))
		}
		r.Scalar[k] += v
	}
}

// Sub subtracts o from r.
func (r *Resource) Sub(o *Resource) {
	r.MilliCPU -= o.MilliCPU
	r.Memory -= o.Memory
	r.EphemeralStorage -= o.EphemeralStorage
	r.Pods -= o.Pods
	for k, v := range o.Scalar {
		if r.Scalar == nil {
			r.Scalar = map[string]int64{}
		}
		r.Scalar[k] -= v
	}
}

// Clone returns a copy of r that shares nothing with it.
func (r Resource) Clone() Resource {
	if r.Scalar != nil {
		r.Scalar = maps.Clone(r.Scalar)
	}
	return r
}

// IsZero reports whether r holds nothing.
func (r *Resource) IsZero() bool {
	if r.MilliCPU != 0 || r.Memory != 0 || r.EphemeralStorage != 0 || r.Pods != 0 {
		return false
	}
	for _, v := range r.Scalar {
		if v != 0 {
			return false
		}
	}
	return true
}

// set sets the named resource to the value of q (millicores for CPU).
func (r *Resource) set(name string, q resource.Quantity) {
	switch name {
	case ResourceCPU:
		r.MilliCPU = q.MilliValue()
	case ResourceMemory:
		r.Memory = q.Value()
	case ResourceEphemeralStorage:
		r.EphemeralStorage = q.Value()
	case ResourcePods:
		r.Pods = q.Value()
	default:
		if r.Scalar == nil {
			r.Scalar = map[string]int64{}
		}
		r.Scalar[name] = q.Value()
	}
}

// maxWith raises each resource of r to o's amount where o's is larger.
func (r *Resource) maxWith(o *Resource) {
	r.MilliCPU = max(r.MilliCPU, o.MilliCPU)
	r.Memory = max(r.Memory, o.Memory)
	r.EphemeralStorage = max(r.EphemeralStorage, o.EphemeralStorage)
	r.Pods = max(r.Pods, o.Pods)
	for k, v := range o.Scalar {
		if r.Scalar == nil {
			r.Scalar = map[string]int64{}
		}
		r.Scalar[k] = max(r.Scalar[k], v)
	}
}

// ParseResourceList converts a ResourceList (quantities as strings: "500m", "128Mi") to a
// Resource. A quantity that does not parse counts as zero and is reported in bad; the
// apiserver validates quantities, so bad is empty for any stored object.
func ParseResourceList(list map[string]string) (r Resource, bad []string) {
	for name, s := range list {
		q, err := resource.ParseQuantity(s)
		if err != nil {
			bad = append(bad, name)
			continue
		}
		r.set(name, q)
	}
	return r, bad
}

// PodRequests computes what a Pod requests, as Kubernetes does: the sum over its containers,
// raised to the largest request of any init container (they run one at a time, before the
// others). nonZero is the same with DefaultMilliCPURequest and DefaultMemoryRequest counted
// for each container that requests no CPU or memory, for scoring.
func PodRequests(spec *corev1.PodSpec) (req, nonZero Resource) {
	for _, c := range spec.GetContainers() {
		r, _ := ParseResourceList(c.GetResources().GetRequests())
		req.Add(&r)
		addNonZero(&nonZero, &r)
	}
	for _, c := range spec.GetInitContainers() {
		r, _ := ParseResourceList(c.GetResources().GetRequests())
		req.maxWith(&r)
		var nz Resource
		addNonZero(&nz, &r)
		nonZero.maxWith(&nz)
	}
	return req, nonZero
}

func addNonZero(dst, r *Resource) {
	cpu, mem := r.MilliCPU, r.Memory
	if cpu == 0 {
		cpu = DefaultMilliCPURequest
	}
	if mem == 0 {
		mem = DefaultMemoryRequest
	}
	dst.MilliCPU += cpu
	dst.Memory += mem
}
