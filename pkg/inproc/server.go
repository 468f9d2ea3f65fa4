package inproc

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Options configures a Server.
type Options struct {
	// Unary and Stream are the server interceptors every diverted call runs through, outermost
	// first: those the *grpc.Server serving the same services has.
	Unary  []grpc.UnaryServerInterceptor
	Stream []grpc.StreamServerInterceptor
}

// Server holds service implementations for in-process calls (see the package doc).
type Server struct {
	unary  []grpc.UnaryServerInterceptor
	stream []grpc.StreamServerInterceptor

	mu      sync.RWMutex
	unaries map[string]unaryMethod
	streams map[string]streamMethod
}

type unaryMethod struct {
	impl    any
	handler grpc.MethodHandler
}

type streamMethod struct {
	impl any
	desc grpc.StreamDesc
}

var _ grpc.ServiceRegistrar = (*Server)(nil)

// NewServer returns a Server with no services.
func NewServer(opts Options) *Server {
	return &Server{
		unary:   opts.Unary,
		stream:  opts.Stream,
		unaries: map[string]unaryMethod{},
		streams: map[string]streamMethod{},
	}
}

// RegisterService registers a service implementation, as grpc.Server.RegisterService does.
// It panics when impl does not implement desc's handler type or the service is already
// registered.
func (s *Server) RegisterService(desc *grpc.ServiceDesc, impl any) {
	if impl != nil {
		ht := reflect.TypeOf(desc.HandlerType).Elem()
		if !reflect.TypeOf(impl).Implements(ht) {
			panic(fmt.Sprintf("inproc: RegisterService: %T does not implement %v", impl, ht))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prefix := "/" + desc.ServiceName + "/"
	for name := range s.unaries {
		if strings.HasPrefix(name, prefix) {
			panic(fmt.Sprintf("inproc: RegisterService: service %s registered twice", desc.ServiceName))
		}
	}
	for _, m := range desc.Methods {
		s.unaries[prefix+m.MethodName] = unaryMethod{impl: impl, handler: m.Handler}
	}
	for _, st := range desc.Streams {
		s.streams[prefix+st.StreamName] = streamMethod{impl: impl, desc: st}
	}
}

// DialOptions are the client interceptors that divert a connection's calls to the registered
// services. They go after interceptors that convert errors, which see the errors of diverted
// calls as they would see a network call's.
func (s *Server) DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(s.interceptUnary),
		grpc.WithChainStreamInterceptor(s.interceptStream),
	}
}

// divertible tells whether a call with these options can be diverted: not when the caller
// forces a codec (it expects bytes, or another encoding, rather than the server's messages).
func divertible(opts []grpc.CallOption) bool {
	for _, o := range opts {
		switch o := o.(type) {
		case grpc.ForceCodecCallOption, grpc.ForceCodecV2CallOption:
			return false
		case grpc.ContentSubtypeCallOption:
			if o.ContentSubtype != "proto" {
				return false
			}
		}
	}
	return true
}

func (s *Server) interceptUnary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	s.mu.RLock()
	m, ok := s.unaries[method]
	s.mu.RUnlock()
	if !ok || !divertible(opts) {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	if err := ctx.Err(); err != nil {
		return status.FromContextError(err).Err()
	}
	ts := &transportStream{method: method}
	sctx := serverContext(ctx, ts)
	var interceptor grpc.UnaryServerInterceptor
	if len(s.unary) > 0 {
		interceptor = s.chainUnary
	}
	resp, err := m.handler(m.impl, sctx, func(v any) error { return move(v, req) }, interceptor)
	ts.deliver(opts)
	if err != nil {
		return toStatus(err)
	}
	if err := move(reply, resp); err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	return nil
}

// chainUnary runs the server's unary interceptors around a handler.
func (s *Server) chainUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	return chainUnaryAt(s.unary, 0)(ctx, req, info, h)
}

func chainUnaryAt(ints []grpc.UnaryServerInterceptor, i int) grpc.UnaryServerInterceptor {
	if i == len(ints)-1 {
		return ints[i]
	}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		return ints[i](ctx, req, info, func(ctx context.Context, req any) (any, error) {
			return chainUnaryAt(ints, i+1)(ctx, req, info, h)
		})
	}
}

func (s *Server) interceptStream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	s.mu.RLock()
	m, ok := s.streams[method]
	s.mu.RUnlock()
	// Only server streams are diverted: one request, then the server's messages.
	if !ok || !divertible(opts) || desc.ClientStreams || m.desc.ClientStreams || !m.desc.ServerStreams {
		return streamer(ctx, desc, cc, method, opts...)
	}
	if err := ctx.Err(); err != nil {
		return nil, status.FromContextError(err).Err()
	}
	return s.startStream(ctx, method, m), nil
}

// runStream runs a stream's handler through the server's stream interceptors.
func (s *Server) runStream(m streamMethod, method string, ss grpc.ServerStream) error {
	info := &grpc.StreamServerInfo{FullMethod: method, IsClientStream: false, IsServerStream: true}
	return chainStreamAt(s.stream, 0, m.desc.Handler)(m.impl, ss, info)
}

func chainStreamAt(ints []grpc.StreamServerInterceptor, i int, h grpc.StreamHandler) func(any, grpc.ServerStream, *grpc.StreamServerInfo) error {
	if i == len(ints) {
		return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo) error { return h(srv, ss) }
	}
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo) error {
		return ints[i](srv, ss, info, func(srv any, ss grpc.ServerStream) error {
			return chainStreamAt(ints, i+1, h)(srv, ss, info)
		})
	}
}

// serverContext is the context a diverted call's handler sees: the caller's (its deadline and
// cancellation), with the caller's outgoing metadata as incoming metadata and no outgoing
// metadata, as a server's handler has.
func serverContext(ctx context.Context, ts grpc.ServerTransportStream) context.Context {
	if md, ok := metadata.FromOutgoingContext(ctx); ok {
		ctx = metadata.NewIncomingContext(ctx, md)
		ctx = metadata.NewOutgoingContext(ctx, nil)
	}
	ctx = context.WithValue(ctx, inProcessKey{}, true)
	return grpc.NewContextWithServerTransportStream(ctx, ts)
}

type inProcessKey struct{}

// IsInProcess reports whether a handler's context belongs to an in-process call: its messages
// reach the caller as they are, so a handler must send the message types the method declares
// (never pre-encoded bytes).
func IsInProcess(ctx context.Context) bool {
	v, _ := ctx.Value(inProcessKey{}).(bool)
	return v
}

// toStatus is the error a network client receives for a handler's error: the error itself
// when it carries a gRPC status, else Canceled or DeadlineExceeded for a context's error, and
// Unknown for any other.
func toStatus(err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.FromContextError(err).Err()
}

// move makes dst, a message the caller allocated, hold src, the message of the other side,
// without copying what they point to.
func move(dst, src any) error {
	dv, sv := reflect.ValueOf(dst), reflect.ValueOf(src)
	if dv.Kind() != reflect.Pointer || dv.IsNil() || sv.Kind() != reflect.Pointer || sv.IsNil() || dv.Type() != sv.Type() {
		return fmt.Errorf("inproc: cannot move a %T into a %T", src, dst)
	}
	dv.Elem().Set(sv.Elem())
	return nil
}

// transportStream collects the header and trailer a unary handler sets, for the caller's
// grpc.Header and grpc.Trailer call options.
type transportStream struct {
	method          string
	mu              sync.Mutex
	header, trailer metadata.MD
}

func (t *transportStream) Method() string { return t.method }

func (t *transportStream) SetHeader(md metadata.MD) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.header = metadata.Join(t.header, md)
	return nil
}

func (t *transportStream) SendHeader(md metadata.MD) error { return t.SetHeader(md) }

func (t *transportStream) SetTrailer(md metadata.MD) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.trailer = metadata.Join(t.trailer, md)
	return nil
}

// deliver hands the header and trailer to the call options that ask for them.
func (t *transportStream) deliver(opts []grpc.CallOption) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, o := range opts {
		switch o := o.(type) {
		case grpc.HeaderCallOption:
			// A client receives a header, even an empty one, from a server that answered.
			*o.HeaderAddr = metadata.Join(metadata.MD{}, t.header)
		case grpc.TrailerCallOption:
			*o.TrailerAddr = t.trailer
		}
	}
}

// Tee registers every service on each of the registrars: a *grpc.Server and a Server, to serve
// the same implementations over the network and in process.
func Tee(rs ...grpc.ServiceRegistrar) grpc.ServiceRegistrar { return tee(rs) }

type tee []grpc.ServiceRegistrar

func (t tee) RegisterService(desc *grpc.ServiceDesc, impl any) {
	for _, r := range t {
		r.RegisterService(desc, impl)
	}
}
