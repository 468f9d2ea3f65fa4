package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/rangealloc"
	"github.com/berth-dev/berth/services/apiserver/strategy"
)

// leakGrace is how old an allocation no Service holds must be before the repair pass frees
// it: younger ones may belong to a create still on its way to etcd.
const leakGrace = time.Minute

// repairServicesPeriodically runs the repair pass every ServiceRepairInterval once the
// apiserver is ready (becomeReady runs the first).
func (s *Server) repairServicesPeriodically(ctx context.Context) {
	select {
	case <-s.readyCh:
	case <-ctx.Done():
		return
	}
	t := time.NewTicker(s.cfg.ServiceRepairInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		if err := s.repairServices(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("repair service allocations", "err", err)
		}
	}
}

// repairServices checks the Service IP and node port allocations against the Services, as
// Kubernetes' repair controllers do: what a Service holds and no allocation records is
// recorded again, and allocations no Service holds are freed.
func (s *Server) repairServices(ctx context.Context) error {
	// Allocations first: a Service whose allocation is listed here and which is written an
	// instant later shows in the list of Services, read after.
	ipAllocs, err := s.serviceIPs.Set().List(ctx)
	if err != nil {
		return err
	}
	portAllocs, err := s.nodePorts.Set().List(ctx)
	if err != nil {
		return err
	}
	items, _, err := s.services.List(ctx, &metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list services: %w", err)
	}
	heldIPs, heldPorts := map[string]string{}, map[string]string{}
	for _, item := range items {
		svc := item.(*corev1.Service)
		owner := svc.GetMetadata().GetNamespace() + "/" + svc.GetMetadata().GetName()
		ips, ports := strategy.ServiceAllocations(svc)
		for _, ip := range ips {
			if a, err := netip.ParseAddr(ip); err == nil {
				ip = a.String()
			}
			s.hold(heldIPs, ip, owner, "service IP")
		}
		for _, p := range ports {
			s.hold(heldPorts, strconv.Itoa(int(p)), owner, "node port")
		}
	}
	if err := s.repairSet(ctx, s.serviceIPs.Set(), ipAllocs, heldIPs, "service IP"); err != nil {
		return err
	}
	return s.repairSet(ctx, s.nodePorts.Set(), portAllocs, heldPorts, "node port")
}

// hold notes that owner holds member, and logs a member two Services claim.
func (s *Server) hold(held map[string]string, member, owner, what string) {
	if other, ok := held[member]; ok && other != owner {
		s.cfg.Logger.Error("two services hold the same "+what, what, member, "services", []string{other, owner})
		return
	}
	held[member] = owner
}

func (s *Server) repairSet(ctx context.Context, set *rangealloc.Allocator, allocs []rangealloc.Allocation, held map[string]string, what string) error {
	recorded := map[string]bool{}
	now := time.Now()
	for _, a := range allocs {
		recorded[a.Name] = true
		if _, ok := held[a.Name]; ok || now.Sub(a.Time) < leakGrace {
			continue
		}
		freed, err := set.ReleaseAt(ctx, a.Name, a.ModRevision)
		if err != nil {
			return err
		}
		if freed {
			s.cfg.Logger.Info("freed a "+what+" no service holds", what, a.Name, "allocatedFor", a.Owner)
		}
	}
	for member, owner := range held {
		if recorded[member] {
			continue
		}
		switch err := set.Claim(ctx, member, owner); {
		case err == nil:
			s.cfg.Logger.Warn("recorded again a "+what+" a service holds", what, member, "service", owner)
		case set.Reserved(member):
			s.cfg.Logger.Warn("a service holds a reserved "+what, what, member, "service", owner)
		case errors.Is(err, rangealloc.ErrAllocated):
			// Allocated since the list: a create racing this pass.
		default:
			return err
		}
	}
	return set.Resync(ctx)
}
