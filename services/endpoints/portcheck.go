package endpoints

import (
	"fmt"
	"slices"
	"sync"

	"google.golang.org/protobuf/types/known/structpb"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// ReasonFailedToResolvePort is the reason of the Warning Event recorded on a Service when a
// port's named targetPort is the name of no container port of any Pod the Service selects:
// the port then has no endpoints at all. Kubernetes only logs this (at V(4)); Berth says it
// where users look, once per change.
const ReasonFailedToResolvePort = "FailedToResolvePort"

// unresolvedPort is a Service port whose named targetPort none of the listed Pods resolves.
type unresolvedPort struct {
	port *corev1.ServicePort
}

// key identifies the port and its targetPort, so that a change of either is a new warning.
func (u unresolvedPort) key() string {
	p := u.port
	return fmt.Sprintf("%s/%d/%s/%s", p.GetName(), p.GetPort(), orTCP(p.GetProtocol()), p.GetTargetPort().GetStringValue())
}

// message names the port and its targetPort.
func (u unresolvedPort) message() string {
	p := u.port
	port := fmt.Sprintf("%d/%s", p.GetPort(), orTCP(p.GetProtocol()))
	if p.GetName() != "" {
		port = fmt.Sprintf("%q (%s)", p.GetName(), port)
	}
	return fmt.Sprintf("Service port %s has targetPort %q, but no container of any selected Pod has a %s port of that name: the port has no endpoints",
		port, p.GetTargetPort().GetStringValue(), orTCP(p.GetProtocol()))
}

// unresolvedPorts are the ports of svc whose targetPort is a name that no Pod listed in its
// Endpoints (see desiredSubsets) resolves. None when no Pod is listed: there is nothing to
// resolve the name against yet.
func unresolvedPorts(svc *corev1.Service, pods []*corev1.Pod) []unresolvedPort {
	spec := svc.GetSpec()
	var listed []*corev1.Pod
	for _, pod := range pods {
		if !podInEndpoints(pod, spec.GetPublishNotReadyAddresses()) {
			continue
		}
		if _, ok := podAddress(svc, pod); ok {
			listed = append(listed, pod)
		}
	}
	if len(listed) == 0 {
		return nil
	}
	var out []unresolvedPort
	for _, sp := range spec.GetPorts() {
		if _, named := sp.GetTargetPort().GetKind().(*structpb.Value_StringValue); !named || sp.GetTargetPort().GetStringValue() == "" {
			continue
		}
		if !slices.ContainsFunc(listed, func(pod *corev1.Pod) bool { _, ok := findPort(pod, sp); return ok }) {
			out = append(out, unresolvedPort{port: sp})
		}
	}
	return out
}

// portWarnings remembers, per Service key, the unresolved ports last warned about, so that a
// warning is recorded once when a port becomes unresolved, not on every reconcile.
type portWarnings struct {
	mu     sync.Mutex
	warned map[string][]string // Service key → unresolvedPort keys
}

func newPortWarnings() *portWarnings { return &portWarnings{warned: map[string][]string{}} }

// fresh records that the ports of Service key now unresolved are ports and returns those
// not unresolved at the previous call: the ones to warn about.
func (w *portWarnings) fresh(key string, ports []unresolvedPort) []unresolvedPort {
	keys := make([]string, len(ports))
	for i, u := range ports {
		keys[i] = u.key()
	}
	w.mu.Lock()
	before := w.warned[key]
	if len(keys) == 0 {
		delete(w.warned, key)
	} else {
		w.warned[key] = keys
	}
	w.mu.Unlock()
	var out []unresolvedPort
	for i, u := range ports {
		if !slices.Contains(before, keys[i]) {
			out = append(out, u)
		}
	}
	return out
}

// forget drops what was remembered of Service key.
func (w *portWarnings) forget(key string) {
	w.mu.Lock()
	delete(w.warned, key)
	w.mu.Unlock()
}
