package strategy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	"github.com/berth-dev/berth/services/apiserver/ipalloc"
	"github.com/berth-dev/berth/services/apiserver/registry"
)

// ServiceIPs hands out Service cluster IPs (an *ipalloc.Allocator). Allocate fails with
// ipalloc.ErrAllocated or an *ipalloc.NotInRangeError for a request it cannot honor.
type ServiceIPs interface {
	Allocate(ctx context.Context, ip, owner string) error
	AllocateNext(ctx context.Context, owner string) (string, error)
	Release(ctx context.Context, ip string) error
}

// NodePorts hands out Service node ports (a *portalloc.Allocator). Allocate fails with
// portalloc.ErrAllocated or a *portalloc.NotInRangeError for a request it cannot honor.
type NodePorts interface {
	Allocate(ctx context.Context, port int32, owner string) error
	AllocateNext(ctx context.Context, owner string) (int32, error)
	Release(ctx context.Context, port int32) error
}

// releaseTimeout bounds the releases a finished request still owes, whatever became of its
// own context.
const releaseTimeout = 10 * time.Second

var serviceKind = schema.GroupKind{Kind: "Service"}

// service adds to base what kube-apiserver's Service REST does around the write: IP family
// fields, cluster IP, node port and health check node port allocation, and their release
// when a write fails, an update gives them up or the Service is deleted.
type service struct {
	*base
	ips   ServiceIPs
	ports NodePorts
	log   *slog.Logger
}

// Service returns the strategy of Services, allocating from ips and ports.
func Service(namespaces *Namespaces, ips ServiceIPs, ports NodePorts, log *slog.Logger) registry.Strategy {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &service{base: &base{res: scheme.Services, namespaces: namespaces}, ips: ips, ports: ports, log: log}
}

// allocation is what one write allocated (released if the write fails) and what it gives up
// (released once the write succeeded).
type allocation struct {
	s          *service
	owner      string
	newIPs     []string
	newPorts   []int32
	staleIPs   []string
	stalePorts []int32
}

func (a *allocation) finish(ctx context.Context, success bool) {
	ips, ports := a.newIPs, a.newPorts
	if success {
		ips, ports = a.staleIPs, a.stalePorts
	}
	a.s.release(ctx, a.owner, ips, ports)
}

// release frees ips and ports on behalf of owner, even when ctx is already done.
func (s *service) release(ctx context.Context, owner string, ips []string, ports []int32) {
	if len(ips) == 0 && len(ports) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	for _, ip := range ips {
		if err := s.ips.Release(ctx, ip); err != nil {
			s.log.Warn("release service IP; the repair pass will", "service", owner, "ip", ip, "err", err)
		}
	}
	for _, p := range ports {
		if err := s.ports.Release(ctx, p); err != nil {
			s.log.Warn("release node port; the repair pass will", "service", owner, "port", p, "err", err)
		}
	}
}

func owner(svc *corev1.Service) string {
	return svc.GetMetadata().GetNamespace() + "/" + svc.GetMetadata().GetName()
}

// BeginCreate fills in the IP family fields and allocates the new Service's cluster IP,
// node ports and health check node port.
func (s *service) BeginCreate(ctx context.Context, obj scheme.Object) (registry.FinishFunc, error) {
	svc := obj.(*corev1.Service)
	if err := initIPFamilies(svc, nil); err != nil {
		return nil, err
	}
	a := &allocation{s: s, owner: owner(svc)}
	err := s.allocClusterIP(ctx, svc, a)
	if err == nil && needsNodePort(svc.Spec) {
		err = s.initNodePorts(ctx, svc, a)
	}
	if err == nil && needsHealthCheck(svc.Spec) {
		err = s.allocHealthCheck(ctx, svc, a)
	}
	if err != nil {
		a.finish(ctx, false)
		return nil, err
	}
	return a.finish, nil
}

// BeginUpdate allocates what an update newly needs and schedules the release of what it gives
// up: the cluster IP of a Service turned ExternalName, the node ports of one turned
// ClusterIP, replaced node ports, a health check node port no longer needed.
func (s *service) BeginUpdate(ctx context.Context, obj, oldObj scheme.Object) (registry.FinishFunc, error) {
	svc, old := obj.(*corev1.Service), oldObj.(*corev1.Service)
	if err := initIPFamilies(svc, old); err != nil {
		return nil, err
	}
	a := &allocation{s: s, owner: owner(svc)}
	err := s.updateClusterIP(ctx, svc, old, a)
	if err == nil {
		err = s.updateNodePorts(ctx, svc, old, a)
	}
	if err == nil {
		err = s.updateHealthCheck(ctx, svc, old, a)
	}
	if err != nil {
		a.finish(ctx, false)
		return nil, err
	}
	return a.finish, nil
}

// AfterDelete releases everything a deleted Service held.
func (s *service) AfterDelete(ctx context.Context, obj scheme.Object) {
	svc := obj.(*corev1.Service)
	ips, ports := ServiceAllocations(svc)
	s.release(ctx, owner(svc), ips, ports)
}

// ServiceAllocations returns what a stored Service holds from the shared pools: its cluster
// IPs (none when headless or ExternalName), and its node ports and health check node port.
func ServiceAllocations(svc *corev1.Service) (ips []string, ports []int32) {
	ports = nodePorts(svc.GetSpec())
	if hc := svc.GetSpec().GetHealthCheckNodePort(); hc != 0 && !slices.Contains(ports, hc) {
		ports = append(ports, hc)
	}
	return heldIPs(svc.GetSpec()), ports
}

// heldIPs are the cluster IPs a Service holds (none when headless or ExternalName).
func heldIPs(spec *corev1.ServiceSpec) []string {
	if spec.GetType() == "ExternalName" {
		return nil
	}
	var out []string
	for _, ip := range clusterIPsOf(spec) {
		if ip != "" && ip != "None" {
			out = append(out, ip)
		}
	}
	return out
}

func clusterIPsOf(spec *corev1.ServiceSpec) []string {
	if len(spec.GetClusterIps()) > 0 {
		return spec.GetClusterIps()
	}
	if spec.GetClusterIp() != "" {
		return []string{spec.GetClusterIp()}
	}
	return nil
}

func isHeadless(spec *corev1.ServiceSpec) bool {
	ips := clusterIPsOf(spec)
	return len(ips) > 0 && ips[0] == "None"
}

// allocClusterIP allocates the requested cluster IP, or any when none is requested.
func (s *service) allocClusterIP(ctx context.Context, svc *corev1.Service, a *allocation) error {
	spec := svc.Spec
	if spec.Type == "ExternalName" || isHeadless(spec) {
		return nil
	}
	if spec.ClusterIp == "" {
		ip, err := s.ips.AllocateNext(ctx, a.owner)
		if err != nil {
			return kerrors.NewInternalError(fmt.Errorf("failed to allocate a serviceIP: %w", err))
		}
		a.newIPs = append(a.newIPs, ip)
		spec.ClusterIp, spec.ClusterIps = ip, []string{ip}
		return nil
	}
	if len(spec.ClusterIps) == 0 {
		spec.ClusterIps = []string{spec.ClusterIp}
	}
	if err := s.ips.Allocate(ctx, spec.ClusterIp, a.owner); err != nil {
		var notInRange *ipalloc.NotInRangeError
		if errors.Is(err, ipalloc.ErrAllocated) || errors.As(err, &notInRange) {
			return kerrors.NewInvalid(serviceKind, svc.GetMetadata().GetName(), field.ErrorList{field.Invalid(
				field.NewPath("spec", "clusterIPs"), spec.ClusterIps, fmt.Sprintf("failed to allocate IP %s: %v", spec.ClusterIp, err))})
		}
		return kerrors.NewInternalError(fmt.Errorf("allocate IP %s: %w", spec.ClusterIp, err))
	}
	a.newIPs = append(a.newIPs, spec.ClusterIp)
	return nil
}

// updateClusterIP: a Service that needs a cluster IP and has none (it was ExternalName) gets
// one; one that turns ExternalName gives its up. The IP itself never changes (validation).
func (s *service) updateClusterIP(ctx context.Context, svc, old *corev1.Service, a *allocation) error {
	wasExternal := old.GetSpec().GetType() == "ExternalName"
	if svc.Spec.Type != "ExternalName" && (wasExternal || svc.Spec.ClusterIp == "") {
		return s.allocClusterIP(ctx, svc, a)
	}
	if !wasExternal && svc.Spec.Type == "ExternalName" {
		a.staleIPs = append(a.staleIPs, heldIPs(old.GetSpec())...)
	}
	return nil
}
