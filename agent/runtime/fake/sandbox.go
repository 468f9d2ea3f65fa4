package fake

import (
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"net/netip"
	"time"

	"github.com/berth-dev/berth/agent/runtime"
)

// sandbox is a simulated Pod sandbox.
type sandbox struct {
	id       string
	pod      runtime.PodRef
	hostname string
	ready    bool
	ipOff    uint32 // offset of its IP in the subnet; 0 when it holds none
	created  time.Time
	labels   map[string]string
}

// RunSandbox records a ready sandbox with the next free IP.
func (r *Runtime) RunSandbox(ctx context.Context, cfg runtime.SandboxConfig) (runtime.Sandbox, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.check("run sandbox"); err != nil {
		return runtime.Sandbox{}, err
	}
	off, err := r.allocIP()
	if err != nil {
		return runtime.Sandbox{}, fmt.Errorf("sandbox of pod %s/%s: %w", cfg.Pod.Namespace, cfg.Pod.Name, err)
	}
	labels := make(map[string]string, len(cfg.Labels)+6)
	maps.Copy(labels, cfg.Labels)
	maps.Copy(labels, r.ownerLabels(cfg.Pod, runtime.SandboxContainerName))
	s := &sandbox{
		id: newID(), pod: cfg.Pod, hostname: cfg.Hostname, ready: true, ipOff: off,
		created: r.cfg.Now(), labels: labels,
	}
	if r.sandboxes == nil {
		r.sandboxes = map[string]*sandbox{}
	}
	r.sandboxes[s.id] = s
	return r.sandboxView(s), nil
}

// ownerLabels are the labels every record of pod carries.
func (r *Runtime) ownerLabels(pod runtime.PodRef, name string) map[string]string {
	return map[string]string{
		runtime.LabelManaged:       "true",
		runtime.LabelPodUID:        pod.UID,
		runtime.LabelPodNamespace:  pod.Namespace,
		runtime.LabelPodName:       pod.Name,
		runtime.LabelContainerName: name,
		runtime.LabelNode:          r.cfg.NodeName,
	}
}

// allocIP takes a free IP offset of the subnet. Called with r.mu held.
func (r *Runtime) allocIP() (uint32, error) {
	if n := len(r.freeIPs); n > 0 {
		off := r.freeIPs[n-1]
		r.freeIPs = r.freeIPs[:n-1]
		return off, nil
	}
	bits := r.cfg.Subnet.Addr().BitLen() - r.cfg.Subnet.Bits()
	if bits < 2 || (bits < 32 && uint64(r.nextIP) >= uint64(1)<<bits-1) {
		return 0, fmt.Errorf("no free IP left in %s", r.cfg.Subnet)
	}
	off := r.nextIP
	r.nextIP++
	return off, nil
}

// releaseIP gives a sandbox's IP back. Called with r.mu held.
func (r *Runtime) releaseIP(s *sandbox) {
	if s.ipOff != 0 {
		r.freeIPs = append(r.freeIPs, s.ipOff)
		s.ipOff = 0
	}
}

// ip is the address at offset off of the subnet.
func (r *Runtime) ip(off uint32) netip.Addr {
	a := r.cfg.Subnet.Addr()
	if a.Is4() {
		b := a.As4()
		binary.BigEndian.PutUint32(b[:], binary.BigEndian.Uint32(b[:])+off)
		return netip.AddrFrom4(b)
	}
	b := a.As16()
	binary.BigEndian.PutUint32(b[12:], binary.BigEndian.Uint32(b[12:])+off)
	return netip.AddrFrom16(b)
}

// sandboxView is what callers see of s. Called with r.mu held.
func (r *Runtime) sandboxView(s *sandbox) runtime.Sandbox {
	sb := runtime.Sandbox{
		ID: s.id, Pod: s.pod, State: runtime.SandboxNotReady, CreatedAt: s.created,
		Labels: maps.Clone(s.labels),
	}
	if s.ready {
		sb.State = runtime.SandboxReady
		sb.IP = r.ip(s.ipOff).String()
	}
	return sb
}

// StopSandbox stops the sandbox's running containers (at once: simulated apps stop on the
// signal) and the sandbox, whose IP is given back.
func (r *Runtime) StopSandbox(ctx context.Context, id string, timeout time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.check("stop sandbox"); err != nil {
		return err
	}
	s, ok := r.sandboxes[id]
	if !ok {
		return notFound("sandbox", id)
	}
	now := r.cfg.Now()
	for _, c := range r.containers {
		if c.sandboxID == id {
			r.stop(c, now)
		}
	}
	s.ready = false
	r.releaseIP(s)
	return nil
}

// RemoveSandbox removes the sandbox and its containers; an unknown one is no error.
func (r *Runtime) RemoveSandbox(ctx context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.check("remove sandbox"); err != nil {
		return err
	}
	s, ok := r.sandboxes[id]
	if !ok {
		return nil
	}
	now := r.cfg.Now()
	for cid, c := range r.containers {
		if c.sandboxID == id {
			r.stop(c, now)
			delete(r.containers, cid)
		}
	}
	r.releaseIP(s)
	delete(r.sandboxes, id)
	return nil
}

// ListSandboxes lists every sandbox.
func (r *Runtime) ListSandboxes(ctx context.Context) ([]runtime.Sandbox, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.check("list sandboxes"); err != nil {
		return nil, err
	}
	out := make([]runtime.Sandbox, 0, len(r.sandboxes))
	for _, s := range r.sandboxes {
		out = append(out, r.sandboxView(s))
	}
	return out, nil
}
