package inproc_test

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/inproc"
)

// health is a Health service whose answers the tests choose by the service name asked about.
type health struct {
	healthpb.UnimplementedHealthServer
	mu sync.Mutex
	// list is the last List response returned; watchDone is signalled when a Watch returns.
	list      *healthpb.HealthListResponse
	watchDone chan error
}

func (h *health) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	switch req.GetService() {
	case "missing":
		return nil, status.Error(codes.NotFound, "no such service")
	case "plain-error":
		return nil, errors.New("plain failure")
	case "header":
		if err := grpc.SetHeader(ctx, metadata.Pairs("k", "v")); err != nil {
			return nil, err
		}
		grpc.SetTrailer(ctx, metadata.Pairs("t", "w"))
	case "metadata":
		md, _ := metadata.FromIncomingContext(ctx)
		if got := md.Get("x-caller"); len(got) != 1 || got[0] != "test" {
			return nil, status.Errorf(codes.InvalidArgument, "incoming metadata %v", md)
		}
		if out, _ := metadata.FromOutgoingContext(ctx); len(out) > 0 {
			return nil, status.Errorf(codes.InvalidArgument, "the handler's context has outgoing metadata %v", out)
		}
		if m, ok := grpc.Method(ctx); !ok || m != healthpb.Health_Check_FullMethodName {
			return nil, status.Errorf(codes.InvalidArgument, "method %q", m)
		}
	case "mutate":
		// A handler may change its request.
		req.Service = "changed"
	}
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

func (h *health) List(context.Context, *healthpb.HealthListRequest) (*healthpb.HealthListResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.list = &healthpb.HealthListResponse{Statuses: map[string]*healthpb.HealthCheckResponse{"a": {Status: healthpb.HealthCheckResponse_SERVING}}}
	return h.list, nil
}

// Watch sends three answers, then ends as the service name says: "ok" without error,
// "fail" with NotFound, "wait" when the caller goes.
func (h *health) Watch(req *healthpb.HealthCheckRequest, s grpc.ServerStreamingServer[healthpb.HealthCheckResponse]) (err error) {
	defer func() {
		if h.watchDone != nil {
			h.watchDone <- err
		}
	}()
	if req.GetService() == "no-header" {
		return status.Error(codes.FailedPrecondition, "refused before the header")
	}
	if err := s.SendHeader(metadata.Pairs("watch", "started")); err != nil {
		return err
	}
	for i := range 3 {
		if err := s.Send(&healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_ServingStatus(i)}); err != nil {
			return err
		}
	}
	switch req.GetService() {
	case "fail":
		return status.Error(codes.NotFound, "gone")
	case "wait":
		<-s.Context().Done()
		return s.Context().Err()
	}
	return nil
}

// recorder is an interceptor pair that records the calls it sees under a name.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, s)
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func (r *recorder) unary(name string) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		r.add(name + " " + info.FullMethod)
		return h(ctx, req)
	}
}

func (r *recorder) stream(name string) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		r.add(name + " " + info.FullMethod)
		return h(srv, ss)
	}
}

type fixture struct {
	impl *health
	conn *grpc.ClientConn
	// local records the in-process interceptors, network those of the *grpc.Server.
	local, network *recorder
}

// start serves a health service over TCP and in process, and dials a connection that diverts
// to the in-process server (divert false: a plain network connection).
func start(t *testing.T, divert bool) *fixture {
	t.Helper()
	f := &fixture{impl: &health{}, local: &recorder{}, network: &recorder{}}
	gs := grpc.NewServer(grpc.ChainUnaryInterceptor(f.network.unary("net")), grpc.ChainStreamInterceptor(f.network.stream("net")))
	ls := inproc.NewServer(inproc.Options{
		Unary:  []grpc.UnaryServerInterceptor{f.local.unary("outer"), f.local.unary("inner")},
		Stream: []grpc.StreamServerInterceptor{f.local.stream("outer"), f.local.stream("inner")},
	})
	healthpb.RegisterHealthServer(inproc.Tee(gs, ls), f.impl)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(l) }()
	t.Cleanup(gs.Stop)
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if divert {
		opts = append(opts, ls.DialOptions()...)
	}
	conn, err := grpc.NewClient(l.Addr().String(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	f.conn = conn
	return f
}

func TestUnary(t *testing.T) {
	tests := []struct {
		service  string
		ctx      func() context.Context
		wantCode codes.Code
		wantMsg  string
	}{
		{service: "ok"},
		{service: "missing", wantCode: codes.NotFound, wantMsg: "no such service"},
		{service: "plain-error", wantCode: codes.Unknown, wantMsg: "plain failure"},
		{service: "metadata", ctx: func() context.Context {
			return metadata.AppendToOutgoingContext(context.Background(), "x-caller", "test")
		}},
		{service: "ok", wantCode: codes.Canceled, ctx: func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}},
	}
	for _, divert := range []bool{true, false} {
		f := start(t, divert)
		c := healthpb.NewHealthClient(f.conn)
		for _, tt := range tests {
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx()
			}
			resp, err := c.Check(ctx, &healthpb.HealthCheckRequest{Service: tt.service})
			st, _ := status.FromError(err)
			if st.Code() != tt.wantCode || (tt.wantMsg != "" && st.Message() != tt.wantMsg) {
				t.Errorf("divert=%v Check(%s): %v, want code %v %q", divert, tt.service, err, tt.wantCode, tt.wantMsg)
				continue
			}
			if err == nil && resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				t.Errorf("divert=%v Check(%s) = %v", divert, tt.service, resp)
			}
		}
	}
}

// The network and in-process paths give the same answers; only the in-process interceptors
// see diverted calls, outermost first.
func TestDivertedCallsStayInProcess(t *testing.T) {
	f := start(t, true)
	c := healthpb.NewHealthClient(f.conn)
	if _, err := c.Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	s, err := c.Watch(context.Background(), &healthpb.HealthCheckRequest{Service: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := s.Recv(); err != nil {
			break
		}
	}
	want := []string{
		"outer " + healthpb.Health_Check_FullMethodName, "inner " + healthpb.Health_Check_FullMethodName,
		"outer " + healthpb.Health_Watch_FullMethodName, "inner " + healthpb.Health_Watch_FullMethodName,
	}
	if got := f.local.got(); !slices.Equal(got, want) {
		t.Errorf("in-process interceptors saw %v, want %v", got, want)
	}
	if got := f.network.got(); len(got) != 0 {
		t.Errorf("the network server saw %v", got)
	}
}

// rawCodec hands over undecoded bytes, as a caller that forces a codec expects.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error)      { return proto.Marshal(v.(proto.Message)) }
func (rawCodec) Unmarshal(data []byte, v any) error { *(v.(*[]byte)) = data; return nil }
func (rawCodec) Name() string                       { return "proto" }

var _ encoding.Codec = rawCodec{}

func TestForcedCodecGoesToTheNetwork(t *testing.T) {
	f := start(t, true)
	var raw []byte
	err := f.conn.Invoke(context.Background(), healthpb.Health_Check_FullMethodName, &healthpb.HealthCheckRequest{}, &raw, grpc.ForceCodec(rawCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	var resp healthpb.HealthCheckResponse
	if err := proto.Unmarshal(raw, &resp); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("raw answer %x: %v, %v", raw, &resp, err)
	}
	if got := f.network.got(); len(got) != 1 {
		t.Errorf("the network server saw %v, want the call", got)
	}
	if got := f.local.got(); len(got) != 0 {
		t.Errorf("the in-process server saw %v", got)
	}
}

func TestOwnership(t *testing.T) {
	f := start(t, true)
	c := healthpb.NewHealthClient(f.conn)
	// The response is the implementation's, not a copy.
	l, err := c.List(context.Background(), &healthpb.HealthListRequest{})
	if err != nil {
		t.Fatal(err)
	}
	f.impl.mu.Lock()
	shared := l.GetStatuses()["a"] == f.impl.list.GetStatuses()["a"]
	f.impl.mu.Unlock()
	if !shared {
		t.Error("the response was copied")
	}
	// The handler receives the caller's request.
	req := &healthpb.HealthCheckRequest{Service: "mutate"}
	if _, err := c.Check(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if req.GetService() != "mutate" {
		// The request's top level is the handler's own copy; only what it points to is shared.
		t.Errorf("the caller's request became %q", req.GetService())
	}
}

func TestHeaderAndTrailer(t *testing.T) {
	for _, divert := range []bool{true, false} {
		f := start(t, divert)
		var header, trailer metadata.MD
		_, err := healthpb.NewHealthClient(f.conn).Check(context.Background(), &healthpb.HealthCheckRequest{Service: "header"}, grpc.Header(&header), grpc.Trailer(&trailer))
		if err != nil {
			t.Fatal(err)
		}
		if got := header.Get("k"); len(got) != 1 || got[0] != "v" {
			t.Errorf("divert=%v: header %v", divert, header)
		}
		if got := trailer.Get("t"); len(got) != 1 || got[0] != "w" {
			t.Errorf("divert=%v: trailer %v", divert, trailer)
		}
	}
}

func TestStream(t *testing.T) {
	tests := []struct {
		service    string
		wantHeader bool
		wantRecv   int
		wantCode   codes.Code
	}{
		{service: "ok", wantHeader: true, wantRecv: 3, wantCode: codes.OK},
		{service: "fail", wantHeader: true, wantRecv: 3, wantCode: codes.NotFound},
		{service: "no-header", wantRecv: 0, wantCode: codes.FailedPrecondition},
	}
	for _, divert := range []bool{true, false} {
		f := start(t, divert)
		c := healthpb.NewHealthClient(f.conn)
		for _, tt := range tests {
			s, err := c.Watch(context.Background(), &healthpb.HealthCheckRequest{Service: tt.service})
			if err != nil {
				t.Fatalf("divert=%v Watch(%s): %v", divert, tt.service, err)
			}
			md, err := s.Header()
			if err != nil {
				t.Fatalf("divert=%v Watch(%s): Header: %v", divert, tt.service, err)
			}
			if got := len(md.Get("watch")) == 1; got != tt.wantHeader {
				t.Errorf("divert=%v Watch(%s): header %v", divert, tt.service, md)
			}
			n := 0
			for {
				resp, err := s.Recv()
				if err != nil {
					if errors.Is(err, io.EOF) {
						err = nil
					}
					if status.Code(err) != tt.wantCode {
						t.Errorf("divert=%v Watch(%s) ended with %v, want %v", divert, tt.service, err, tt.wantCode)
					}
					break
				}
				if int(resp.GetStatus()) != n {
					t.Errorf("divert=%v Watch(%s): answer %d is %v", divert, tt.service, n, resp)
				}
				n++
			}
			if n != tt.wantRecv {
				t.Errorf("divert=%v Watch(%s): %d answers, want %d", divert, tt.service, n, tt.wantRecv)
			}
		}
	}
}

// A caller that goes away ends the handler.
func TestStreamCancel(t *testing.T) {
	f := start(t, true)
	f.impl.watchDone = make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := healthpb.NewHealthClient(f.conn).Watch(ctx, &healthpb.HealthCheckRequest{Service: "wait"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := s.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if _, err := s.Recv(); status.Code(err) != codes.Canceled {
		t.Errorf("Recv after cancel: %v, want Canceled", err)
	}
	select {
	case err := <-f.impl.watchDone:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the handler returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the handler still runs after the caller went")
	}
}

// A handler that sends faster than its caller reads waits for it: messages are not dropped or
// reordered.
func TestStreamBackpressure(t *testing.T) {
	f := start(t, true)
	s, err := healthpb.NewHealthClient(f.conn).Watch(context.Background(), &healthpb.HealthCheckRequest{Service: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the handler has sent everything and returned
	for i := range 3 {
		resp, err := s.Recv()
		if err != nil || int(resp.GetStatus()) != i {
			t.Fatalf("answer %d: %v, %v", i, resp, err)
		}
	}
	if _, err := s.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("after the answers: %v, want EOF", err)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	s := inproc.NewServer(inproc.Options{})
	healthpb.RegisterHealthServer(s, &health{})
	defer func() {
		if recover() == nil {
			t.Error("a second registration did not panic")
		}
	}()
	healthpb.RegisterHealthServer(s, &health{})
}
