package apiserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	"github.com/berth-dev/berth/services/apiserver/registry"
)

// The pods/log and pods/exec subresources are served by the agent of the Pod's Node: the
// apiserver checks the request against the Pod (it exists, is bound, names one of its
// containers), then relays the call to the agent at the Node's address and port
// (status.addresses and status.daemonEndpoints.kubeletEndpoint), which serves the same two
// RPCs. Clients only ever talk to the apiserver.

// agentProxy relays Log and Exec to agents, over one cached connection per agent address.
type agentProxy struct {
	pods  *registry.Store[*corev1.Pod]
	nodes *registry.Store[*corev1.Node]

	mu     sync.Mutex
	conns  map[string]*grpc.ClientConn
	closed bool
}

func newAgentProxy(pods *registry.Store[*corev1.Pod], nodes *registry.Store[*corev1.Node]) *agentProxy {
	return &agentProxy{pods: pods, nodes: nodes, conns: map[string]*grpc.ClientConn{}}
}

// run closes the agent connections once ctx ends.
func (p *agentProxy) run(ctx context.Context) {
	<-ctx.Done()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for addr, c := range p.conns {
		_ = c.Close()
		delete(p.conns, addr)
	}
}

// target resolves the Pod and container a request names and the address of its Node's agent.
// It returns the container's name (filled in when the Pod has only one).
func (p *agentProxy) target(ctx context.Context, namespace, name, container string) (string, corev1.PodServiceClient, error) {
	pod, err := p.pods.Get(ctx, namespace, name, "")
	if err != nil {
		return "", nil, err
	}
	container, err = podContainer(pod, container)
	if err != nil {
		return "", nil, err
	}
	nodeName := pod.GetSpec().GetNodeName()
	if nodeName == "" {
		return "", nil, kerrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", name))
	}
	node, err := p.nodes.Get(ctx, "", nodeName, "")
	if kerrors.IsNotFound(err) {
		return "", nil, kerrors.NewBadRequest(fmt.Sprintf("node %q of pod %s does not exist", nodeName, name))
	}
	if err != nil {
		return "", nil, err
	}
	addr, err := agentAddress(node)
	if err != nil {
		return "", nil, err
	}
	conn, err := p.conn(addr)
	if err != nil {
		return "", nil, err
	}
	return container, corev1.NewPodServiceClient(conn), nil
}

// podContainer checks that container names one of the Pod's containers, or picks the only
// one when it is empty, with Kubernetes' messages.
func podContainer(pod *corev1.Pod, container string) (string, error) {
	spec := pod.GetSpec()
	name := pod.GetMetadata().GetName()
	if container == "" {
		if len(spec.GetContainers()) == 1 {
			return spec.GetContainers()[0].GetName(), nil
		}
		var names, inits []string
		for _, c := range spec.GetContainers() {
			names = append(names, c.GetName())
		}
		for _, c := range spec.GetInitContainers() {
			inits = append(inits, c.GetName())
		}
		msg := fmt.Sprintf("a container name must be specified for pod %s, choose one of: [%s]", name, strings.Join(names, " "))
		if len(inits) > 0 {
			msg += fmt.Sprintf(" or one of the init containers: [%s]", strings.Join(inits, " "))
		}
		return "", kerrors.NewBadRequest(msg)
	}
	for _, c := range spec.GetContainers() {
		if c.GetName() == container {
			return container, nil
		}
	}
	for _, c := range spec.GetInitContainers() {
		if c.GetName() == container {
			return container, nil
		}
	}
	return "", kerrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", container, name))
}

// agentAddress is host:port of a Node's agent: its InternalIP (else ExternalIP, else
// Hostname) and the port it advertises.
func agentAddress(node *corev1.Node) (string, error) {
	port := node.GetStatus().GetDaemonEndpoints().GetKubeletEndpoint().GetPort()
	if port <= 0 {
		return "", kerrors.NewServiceUnavailable(fmt.Sprintf("node %s advertises no agent port (status.daemonEndpoints.kubeletEndpoint.Port)", node.GetMetadata().GetName()))
	}
	for _, typ := range []string{"InternalIP", "ExternalIP", "Hostname"} {
		for _, a := range node.GetStatus().GetAddresses() {
			if a.GetType() == typ && a.GetAddress() != "" {
				return net.JoinHostPort(a.GetAddress(), strconv.Itoa(int(port))), nil
			}
		}
	}
	return "", kerrors.NewServiceUnavailable(fmt.Sprintf("node %s has no address (status.addresses)", node.GetMetadata().GetName()))
}

// conn returns the connection to the agent at addr, creating it on first use. Connections
// reconnect by themselves; they are closed when the apiserver stops.
func (p *agentProxy) conn(addr string) (*grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, kerrors.NewServiceUnavailable("the apiserver is shutting down")
	}
	if c, ok := p.conns[addr]; ok {
		return c, nil
	}
	c, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 20 * time.Second}),
	)
	if err != nil {
		return nil, kerrors.NewInternalError(fmt.Errorf("connect to the agent at %s: %w", addr, err))
	}
	p.conns[addr] = c
	return c, nil
}

// agentErr explains a failure to reach an agent; errors the agent itself returned (a gRPC
// status with a Kubernetes Status in its details) pass through unchanged.
func agentErr(err error, name string) error {
	if err == nil || errors.Is(err, io.EOF) {
		return err
	}
	var se kerrors.APIStatus
	if errors.As(err, &se) {
		return err
	}
	if s, ok := status.FromError(err); ok && len(s.Details()) > 0 {
		return err
	}
	return kerrors.NewServiceUnavailable(fmt.Sprintf("the agent serving pod %s cannot be reached: %v", name, err))
}

// Log relays the log of one container from the agent of the Pod's Node.
func (p *agentProxy) Log(req *corev1.PodLogRequest, stream grpc.ServerStreamingServer[corev1.PodLogChunk]) error {
	ctx := stream.Context()
	if req.SinceSeconds != nil && req.SinceTime != nil {
		return kerrors.NewBadRequest("at most one of sinceTime or sinceSeconds may be specified")
	}
	for _, v := range []*int64{req.SinceSeconds, req.TailLines, req.LimitBytes} {
		if v != nil && *v < 0 {
			return kerrors.NewBadRequest("sinceSeconds, tailLines and limitBytes must not be negative")
		}
	}
	if req.SinceSeconds != nil && *req.SinceSeconds == 0 {
		return kerrors.NewBadRequest("sinceSeconds must be greater than 0")
	}
	container, agent, err := p.target(ctx, req.GetNamespace(), req.GetName(), req.GetContainer())
	if err != nil {
		return err
	}
	fwd := cloneLogRequest(req)
	fwd.Container = container
	ls, err := agent.Log(ctx, fwd)
	if err != nil {
		return agentErr(err, req.GetName())
	}
	for {
		chunk, err := ls.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil // the client went away
			}
			return agentErr(err, req.GetName())
		}
		if err := stream.Send(chunk); err != nil {
			return err
		}
	}
}

func cloneLogRequest(r *corev1.PodLogRequest) *corev1.PodLogRequest {
	return &corev1.PodLogRequest{
		Namespace: r.Namespace, Name: r.Name, Container: r.Container, Follow: r.Follow, Previous: r.Previous,
		SinceSeconds: r.SinceSeconds, SinceTime: r.SinceTime, Timestamps: r.Timestamps, TailLines: r.TailLines, LimitBytes: r.LimitBytes,
	}
}

// Exec relays an exec session to the agent of the Pod's Node: the client's stdin and resizes
// one way, the command's output and exit code the other.
func (p *agentProxy) Exec(stream grpc.BidiStreamingServer[corev1.ExecRequest, corev1.ExecResponse]) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	start := first.GetStart()
	if start == nil {
		return kerrors.NewBadRequest("the first message of an exec session must be its start")
	}
	if len(start.GetCommand()) == 0 {
		return kerrors.NewBadRequest("you must specify at least 1 command")
	}
	container, agent, err := p.target(ctx, start.GetNamespace(), start.GetName(), start.GetContainer())
	if err != nil {
		return err
	}
	fwd := &corev1.ExecStart{
		Namespace: start.Namespace, Name: start.Name, Container: container, Command: start.Command,
		Stdin: start.Stdin, Tty: start.Tty, Size: start.Size,
	}
	as, err := agent.Exec(ctx)
	if err != nil {
		return agentErr(err, start.GetName())
	}
	if err := as.Send(&corev1.ExecRequest{Request: &corev1.ExecRequest_Start{Start: fwd}}); err != nil {
		_, rerr := as.Recv() // the real error
		return agentErr(rerr, start.GetName())
	}
	// Client to agent: stdin and resizes, until the client closes its side.
	go func() {
		for {
			msg, err := stream.Recv()
			if err != nil {
				if errors.Is(err, io.EOF) {
					_ = as.CloseSend()
				} else {
					cancel()
				}
				return
			}
			if err := as.Send(msg); err != nil {
				return // the agent's side ended; Recv below reports why
			}
		}
	}()
	// Agent to client: output and the exit code, until the agent ends the session.
	for {
		msg, err := as.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if stream.Context().Err() != nil {
				return nil
			}
			return agentErr(err, start.GetName())
		}
		if err := stream.Send(msg); err != nil {
			return err
		}
	}
}
