package inproc

import (
	"context"
	"io"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// streamBuffer is how many messages a server stream's handler may send ahead of its caller.
const streamBuffer = 16

// stream is one diverted server stream: the caller's end (grpc.ClientStream) and the handler's
// (grpc.ServerStream), joined by channels. The handler runs on a goroutine of its own until it
// returns or the caller's context ends.
type stream struct {
	ctx    context.Context
	cancel context.CancelFunc
	method string

	// req carries the caller's one request; reqClosed is closed by CloseSend.
	req       chan any
	reqClosed chan struct{}
	closeOnce sync.Once

	// msgs carries the handler's messages.
	msgs chan any

	mu sync.Mutex
	// header is closed once the handler has sent its header (or its first message, or has
	// returned); headerMD is what it sent.
	header     chan struct{}
	headerSent bool
	headerMD   metadata.MD
	trailerMD  metadata.MD

	// done is closed when the handler has returned err.
	done chan struct{}
	err  error
}

func (s *Server) startStream(ctx context.Context, method string, m streamMethod) *stream {
	ctx, cancel := context.WithCancel(ctx)
	st := &stream{
		ctx: ctx, cancel: cancel, method: method,
		req: make(chan any, 1), reqClosed: make(chan struct{}),
		msgs:   make(chan any, streamBuffer),
		header: make(chan struct{}),
		done:   make(chan struct{}),
	}
	ss := &serverStream{st: st, ctx: serverContext(ctx, st)}
	go func() {
		err := s.runStream(m, method, ss)
		st.mu.Lock()
		st.err = err
		st.sendHeaderLocked()
		st.mu.Unlock()
		close(st.done)
	}()
	return st
}

// sendHeaderLocked marks the header sent. The caller holds st.mu.
func (st *stream) sendHeaderLocked() {
	if st.headerSent {
		return
	}
	st.headerSent = true
	close(st.header)
}

// The grpc.ServerTransportStream of the handler's context.

func (st *stream) Method() string { return st.method }

func (st *stream) SetHeader(md metadata.MD) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.headerSent {
		return status.Error(codes.Internal, "transport: the stream is done or WriteHeader was already called")
	}
	st.headerMD = metadata.Join(st.headerMD, md)
	return nil
}

func (st *stream) SendHeader(md metadata.MD) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.headerSent {
		return status.Error(codes.Internal, "transport: the stream is done or WriteHeader was already called")
	}
	st.headerMD = metadata.Join(st.headerMD, md)
	if st.headerMD == nil {
		// A client receives a header, even an empty one, once the server has sent it.
		st.headerMD = metadata.MD{}
	}
	st.sendHeaderLocked()
	return nil
}

func (st *stream) SetTrailer(md metadata.MD) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.trailerMD = metadata.Join(st.trailerMD, md)
	return nil
}

// serverStream is the handler's end.
type serverStream struct {
	st  *stream
	ctx context.Context
}

var _ grpc.ServerStream = (*serverStream)(nil)

func (ss *serverStream) SetHeader(md metadata.MD) error  { return ss.st.SetHeader(md) }
func (ss *serverStream) SendHeader(md metadata.MD) error { return ss.st.SendHeader(md) }
func (ss *serverStream) SetTrailer(md metadata.MD)       { _ = ss.st.SetTrailer(md) }
func (ss *serverStream) Context() context.Context        { return ss.ctx }

// SendMsg hands m to the caller, waiting while the caller is streamBuffer messages behind.
func (ss *serverStream) SendMsg(m any) error {
	st := ss.st
	st.mu.Lock()
	if !st.headerSent {
		if st.headerMD == nil {
			st.headerMD = metadata.MD{}
		}
		st.sendHeaderLocked()
	}
	st.mu.Unlock()
	select {
	case st.msgs <- m:
		return nil
	case <-st.ctx.Done():
		return status.FromContextError(st.ctx.Err()).Err()
	}
}

// RecvMsg receives the caller's request.
func (ss *serverStream) RecvMsg(m any) error {
	st := ss.st
	select {
	case req := <-st.req:
		return move(m, req)
	default:
	}
	select {
	case req := <-st.req:
		return move(m, req)
	case <-st.reqClosed:
		select {
		case req := <-st.req:
			return move(m, req)
		default:
			return io.EOF
		}
	case <-st.ctx.Done():
		return status.FromContextError(st.ctx.Err()).Err()
	}
}

// The caller's end.

var _ grpc.ClientStream = (*stream)(nil)

// Header waits for the handler's header. It returns nil and no error when the handler returned
// without one: RecvMsg then reports how the stream ended.
func (st *stream) Header() (metadata.MD, error) {
	select {
	case <-st.header:
	case <-st.ctx.Done():
		select {
		case <-st.header:
		default:
			return nil, status.FromContextError(st.ctx.Err()).Err()
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.headerMD, nil
}

// Trailer is the handler's trailer, once the stream has ended.
func (st *stream) Trailer() metadata.MD {
	select {
	case <-st.done:
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.trailerMD
	default:
		return nil
	}
}

func (st *stream) CloseSend() error {
	st.closeOnce.Do(func() { close(st.reqClosed) })
	return nil
}

func (st *stream) Context() context.Context { return st.ctx }

// SendMsg sends the request; a server stream takes one.
func (st *stream) SendMsg(m any) error {
	select {
	case <-st.reqClosed:
		return status.Error(codes.Internal, "SendMsg called after CloseSend")
	default:
	}
	select {
	case st.req <- m:
		return nil
	default:
		return status.Error(codes.Internal, "inproc: a server stream takes one request")
	}
}

// RecvMsg receives the handler's next message: io.EOF once it has returned without error, its
// error once it has returned with one, a Canceled or DeadlineExceeded status once the caller's
// context has ended.
func (st *stream) RecvMsg(m any) error {
	select {
	case msg := <-st.msgs:
		return st.recv(m, msg)
	default:
	}
	select {
	case msg := <-st.msgs:
		return st.recv(m, msg)
	case <-st.done:
		// Messages sent before the handler returned come first.
		select {
		case msg := <-st.msgs:
			return st.recv(m, msg)
		default:
		}
		st.cancel()
		if st.err == nil {
			return io.EOF
		}
		return toStatus(st.err)
	case <-st.ctx.Done():
		return status.FromContextError(st.ctx.Err()).Err()
	}
}

func (st *stream) recv(m, msg any) error {
	if err := move(m, msg); err != nil {
		st.cancel()
		return status.Error(codes.Internal, err.Error())
	}
	return nil
}
