package strategy

import (
	"context"
	"errors"
	"fmt"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	"github.com/berth-dev/berth/services/apiserver/portalloc"
)

func needsNodePort(spec *corev1.ServiceSpec) bool {
	return spec.GetType() == "NodePort" || spec.GetType() == "LoadBalancer"
}

// shouldAllocateNodePorts: NodePort Services always get node ports; LoadBalancers unless
// allocateLoadBalancerNodePorts is false (requested ones are honored either way).
func shouldAllocateNodePorts(spec *corev1.ServiceSpec) bool {
	switch spec.GetType() {
	case "NodePort":
		return true
	case "LoadBalancer":
		return spec.AllocateLoadBalancerNodePorts == nil || *spec.AllocateLoadBalancerNodePorts
	}
	return false
}

func needsHealthCheck(spec *corev1.ServiceSpec) bool {
	return spec.GetType() == "LoadBalancer" && spec.GetExternalTrafficPolicy() == "Local"
}

// nodePorts are the distinct node ports a Service's ports hold.
func nodePorts(spec *corev1.ServiceSpec) []int32 {
	var out []int32
	seen := map[int32]bool{}
	for _, p := range spec.GetPorts() {
		if np := p.GetNodePort(); np != 0 && !seen[np] {
			seen[np] = true
			out = append(out, np)
		}
	}
	return out
}

// claimNodePort allocates a requested node port of spec.ports[i].
func (s *service) claimNodePort(ctx context.Context, svc *corev1.Service, i int, port int32, a *allocation) error {
	err := s.ports.Allocate(ctx, port, a.owner)
	if err == nil {
		a.newPorts = append(a.newPorts, port)
		return nil
	}
	var notInRange *portalloc.NotInRangeError
	if errors.Is(err, portalloc.ErrAllocated) || errors.As(err, &notInRange) {
		return kerrors.NewInvalid(serviceKind, svc.GetMetadata().GetName(), field.ErrorList{
			field.Invalid(field.NewPath("spec", "ports").Index(i).Child("nodePort"), port, err.Error())})
	}
	return kerrors.NewInternalError(fmt.Errorf("allocate node port %d: %w", port, err))
}

func (s *service) nextNodePort(ctx context.Context, a *allocation) (int32, error) {
	port, err := s.ports.AllocateNext(ctx, a.owner)
	if err != nil {
		return 0, kerrors.NewInternalError(fmt.Errorf("failed to allocate a nodePort: %w", err))
	}
	a.newPorts = append(a.newPorts, port)
	return port, nil
}

// initNodePorts allocates a new Service's node ports as Kubernetes does: ports that share a
// port number (TCP and UDP 53) share one node port, the requested one if any of them asks.
func (s *service) initNodePorts(ctx context.Context, svc *corev1.Service, a *allocation) error {
	spec := svc.Spec
	byPort := map[int32]int32{}
	for i, p := range spec.Ports {
		if p.NodePort == 0 && !shouldAllocateNodePorts(spec) {
			continue
		}
		shared := byPort[p.Port]
		switch {
		case shared == 0:
			np := requestedNodePort(p.Port, spec.Ports)
			if np != 0 {
				if err := s.claimNodePort(ctx, svc, i, np, a); err != nil {
					return err
				}
			} else {
				var err error
				if np, err = s.nextNodePort(ctx, a); err != nil {
					return err
				}
			}
			p.NodePort = np
			byPort[p.Port] = np
		case p.NodePort == 0:
			p.NodePort = shared
		case p.NodePort != shared:
			if err := s.claimNodePort(ctx, svc, i, p.NodePort, a); err != nil {
				return err
			}
		}
	}
	return nil
}

func requestedNodePort(port int32, ports []*corev1.ServicePort) int32 {
	for _, p := range ports {
		if p.GetPort() == port && p.GetNodePort() != 0 {
			return p.GetNodePort()
		}
	}
	return 0
}

// updateNodePorts keeps the node ports an update keeps, allocates new ones, and releases
// (once the write succeeded) those it drops, all of them when the type no longer needs any.
func (s *service) updateNodePorts(ctx context.Context, svc, old *corev1.Service, a *allocation) error {
	spec := svc.Spec
	oldPorts := nodePorts(old.GetSpec())
	if needsNodePort(old.GetSpec()) && !needsNodePort(spec) {
		a.stalePorts = append(a.stalePorts, oldPorts...)
		return nil
	}
	if !needsNodePort(spec) {
		return nil
	}
	had := map[int32]bool{}
	for _, p := range oldPorts {
		had[p] = true
	}
	claimed := map[int32]bool{}
	for i, p := range spec.Ports {
		switch {
		case p.NodePort == 0 && !shouldAllocateNodePorts(spec):
		case p.NodePort != 0:
			if !had[p.NodePort] && !claimed[p.NodePort] {
				if err := s.claimNodePort(ctx, svc, i, p.NodePort, a); err != nil {
					return err
				}
				claimed[p.NodePort] = true
			}
		default:
			np, err := s.nextNodePort(ctx, a)
			if err != nil {
				return err
			}
			p.NodePort = np
		}
	}
	kept := map[int32]bool{}
	for _, p := range nodePorts(spec) {
		kept[p] = true
	}
	for _, p := range oldPorts {
		if !kept[p] {
			a.stalePorts = append(a.stalePorts, p)
		}
	}
	return nil
}

// allocHealthCheck allocates a new LoadBalancer's healthCheckNodePort (the requested one, or
// any).
func (s *service) allocHealthCheck(ctx context.Context, svc *corev1.Service, a *allocation) error {
	spec := svc.Spec
	if hc := spec.HealthCheckNodePort; hc != 0 {
		if err := s.ports.Allocate(ctx, hc, a.owner); err != nil {
			return kerrors.NewInternalError(fmt.Errorf("failed to allocate requested HealthCheck NodePort %d: %w", hc, err))
		}
		a.newPorts = append(a.newPorts, hc)
		return nil
	}
	hc, err := s.ports.AllocateNext(ctx, a.owner)
	if err != nil {
		return kerrors.NewInternalError(fmt.Errorf("failed to allocate a HealthCheck NodePort: %w", err))
	}
	a.newPorts = append(a.newPorts, hc)
	spec.HealthCheckNodePort = hc
	return nil
}

// updateHealthCheck allocates a healthCheckNodePort when an update starts needing one, frees
// it when it stops, and refuses to change it otherwise.
func (s *service) updateHealthCheck(ctx context.Context, svc, old *corev1.Service, a *allocation) error {
	needed, needs := needsHealthCheck(old.GetSpec()), needsHealthCheck(svc.Spec)
	oldHC, newHC := old.GetSpec().GetHealthCheckNodePort(), svc.Spec.HealthCheckNodePort
	switch {
	case !needed && needs:
		return s.allocHealthCheck(ctx, svc, a)
	case needed && !needs:
		if oldHC != 0 && oldHC != newHC {
			a.stalePorts = append(a.stalePorts, oldHC)
		}
	case needed && needs && oldHC != newHC:
		return kerrors.NewInvalid(serviceKind, svc.GetMetadata().GetName(), field.ErrorList{field.Invalid(
			field.NewPath("spec", "healthCheckNodePort"), newHC,
			"cannot change healthCheckNodePort on loadBalancer service with externalTraffic=Local during update")})
	}
	return nil
}
