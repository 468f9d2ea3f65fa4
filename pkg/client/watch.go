package client

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"

	"github.com/berth-dev/berth/pkg/scheme"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// Watch event types, as Kubernetes names them.
const (
	Added    = "ADDED"
	Modified = "MODIFIED"
	Deleted  = "DELETED"
	Bookmark = "BOOKMARK"
	Error    = "ERROR"
)

// Event is one change seen by a watch.
type Event struct {
	// Type is ADDED, MODIFIED, DELETED or BOOKMARK.
	Type string
	// Object is the object after the change (the last state seen, for DELETED). For a
	// BOOKMARK only its resourceVersion is set.
	Object scheme.Object
}

// Watcher yields the events of one watch.
type Watcher struct {
	ctx    context.Context
	cancel context.CancelFunc
	stream grpc.ClientStream
	r      *scheme.Resource
}

// Watch starts a watch of the objects opts selects and returns once the server has
// established it. opts.ResourceVersion "" starts with the current state as ADDED events (as
// Kubernetes does); a resourceVersion resumes after it, and fails with an Expired error when
// the server no longer has it.
func (rc *ResourceClient) Watch(ctx context.Context, opts *metav1.ListOptions) (*Watcher, error) {
	if opts == nil {
		opts = &metav1.ListOptions{}
	}
	ctx, cancel := context.WithCancel(ctx)
	desc := &grpc.StreamDesc{StreamName: "Watch", ServerStreams: true}
	stream, err := rc.conn.NewStream(ctx, desc, rc.r.Method("Watch"))
	if err != nil {
		cancel()
		return nil, err
	}
	if err := stream.SendMsg(opts); err != nil {
		cancel()
		return nil, recvErr(ctx, stream, err)
	}
	if err := stream.CloseSend(); err != nil {
		cancel()
		return nil, err
	}
	// The apiserver sends headers once the watch is established, so a watch that cannot start
	// (an expired resourceVersion, a bad selector) fails here rather than on the first Next.
	md, err := stream.Header()
	if err == nil && md == nil {
		// The stream ended before the watch started; gRPC reports why on RecvMsg.
		err = stream.RecvMsg(rc.r.NewWatchEvent())
		if err == nil || errors.Is(err, io.EOF) {
			err = fmt.Errorf("watch %s: the server ended the stream before the watch started", rc.r.GroupResource())
		}
	}
	if err != nil {
		// The caller's context ending explains the failure better than the stream's error.
		cerr := ctx.Err()
		cancel()
		if cerr != nil {
			return nil, cerr
		}
		return nil, err
	}
	return &Watcher{ctx: ctx, cancel: cancel, stream: stream, r: rc.r}, nil
}

// Next blocks until the next event. It returns io.EOF when the server ends the watch (its
// timeout passed, or it shut down cleanly), ctx's error once ctx is done or Stop was called,
// and the server's error (a *StatusError) otherwise.
func (w *Watcher) Next() (Event, error) {
	ev := w.r.NewWatchEvent()
	if err := w.stream.RecvMsg(ev); err != nil {
		if errors.Is(err, io.EOF) {
			return Event{}, io.EOF
		}
		if cerr := w.ctx.Err(); cerr != nil {
			return Event{}, cerr
		}
		return Event{}, err
	}
	typ, obj := eventParts(ev)
	if obj == nil {
		obj = w.r.New()
	}
	return Event{Type: typ, Object: obj}, nil
}

// Stop ends the watch; Next then returns context.Canceled.
func (w *Watcher) Stop() { w.cancel() }

// recvErr gets the real error of a stream whose SendMsg failed: gRPC reports it on RecvMsg.
func recvErr(ctx context.Context, stream grpc.ClientStream, sendErr error) error {
	if !errors.Is(sendErr, io.EOF) {
		return sendErr
	}
	if err := stream.RecvMsg(&metav1.Status{}); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return sendErr
}
