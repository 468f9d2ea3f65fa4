package apiserver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/inproc"
	"github.com/berth-dev/berth/pkg/scheme"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/registry"
	"github.com/berth-dev/berth/services/apiserver/watchcache"
)

// bookmarkInterval is how often a quiet watch that allows bookmarks receives one.
const bookmarkInterval = 30 * time.Second

// resourceServer implements the generated <Kind>ServiceServer interface of any resource over a
// generic store: T is the object (*corev1.Pod), L its list (*corev1.PodList), E its watch event
// (corev1.PodWatchEvent). Converting errors to gRPC happens in the interceptor, once.
type resourceServer[T scheme.Object, L proto.Message, E any] struct {
	store *registry.Store[T]
}

func newResourceServer[T scheme.Object, L proto.Message, E any](s *registry.Store[T]) resourceServer[T, L, E] {
	return resourceServer[T, L, E]{store: s}
}

func (r resourceServer[T, L, E]) Create(ctx context.Context, obj T) (T, error) {
	return r.store.Create(ctx, obj)
}

func (r resourceServer[T, L, E]) Get(ctx context.Context, req *metav1.GetRequest) (T, error) {
	return r.store.Get(ctx, req.GetNamespace(), req.GetName(), req.GetResourceVersion())
}

func (r resourceServer[T, L, E]) List(ctx context.Context, opts *metav1.ListOptions) (L, error) {
	items, lm, err := r.store.List(ctx, opts)
	var zero L
	if err != nil {
		return zero, err
	}
	list := r.store.Resource().NewList()
	m := list.ProtoReflect()
	fields := m.Descriptor().Fields()
	m.Set(fields.ByName("metadata"), protoreflect.ValueOfMessage(lm.ProtoReflect()))
	lv := m.Mutable(fields.ByName("items")).List()
	for _, it := range items {
		lv.Append(protoreflect.ValueOfMessage(it.ProtoReflect()))
	}
	return list.(L), nil
}

func (r resourceServer[T, L, E]) Update(ctx context.Context, obj T) (T, error) {
	return r.store.Update(ctx, obj)
}

func (r resourceServer[T, L, E]) UpdateStatus(ctx context.Context, obj T) (T, error) {
	return r.store.UpdateStatus(ctx, obj)
}

func (r resourceServer[T, L, E]) Delete(ctx context.Context, req *metav1.DeleteRequest) (T, error) {
	return r.store.Delete(ctx, req)
}

// Watch streams changes until the client goes, timeoutSeconds pass, or the watcher falls
// behind the cache (then the stream ends with Expired: the client re-lists).
func (r resourceServer[T, L, E]) Watch(opts *metav1.ListOptions, stream grpc.ServerStreamingServer[E]) error {
	ctx := stream.Context()
	if t := opts.GetTimeoutSeconds(); t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(t)*time.Second)
		defer cancel()
	}
	w, err := r.store.Watch(ctx, opts)
	if err != nil {
		return err
	}
	// Tell the client the watch is established before any event, so it can rely on it.
	if err := stream.SendHeader(nil); err != nil {
		return err
	}
	wait := time.Duration(0)
	if opts.GetAllowWatchBookmarks() {
		wait = bookmarkInterval
	}
	res := r.store.Resource()
	// Over the network each change is encoded once for all its watchers; an in-process caller
	// receives the messages themselves.
	shared := !inproc.IsInProcess(ctx)
	for {
		evs, err := w.Next(ctx, wait)
		switch {
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
			return nil
		case errors.Is(err, watchcache.ErrClosed):
			return kerrors.NewServiceUnavailable("the apiserver is shutting down")
		case errors.Is(err, watchcache.ErrExpired):
			return kerrors.NewResourceExpired(fmt.Sprintf("too old resource version: %v", err))
		case err != nil:
			return err
		}
		if len(evs) == 0 {
			bm := res.New()
			scheme.Meta(bm).ResourceVersion = strconv.FormatInt(w.Rev(), 10)
			evs = []watchcache.WatchEvent{{Type: watchcache.Bookmark, Object: bm}}
		}
		for _, ev := range evs {
			newEvent := func() proto.Message {
				msg := res.NewWatchEvent()
				m := msg.ProtoReflect()
				fields := m.Descriptor().Fields()
				m.Set(fields.ByName("type"), protoreflect.ValueOfString(ev.Type))
				m.Set(fields.ByName("object"), protoreflect.ValueOfMessage(ev.Object.ProtoReflect()))
				return msg
			}
			if !shared {
				if err := stream.Send(any(newEvent()).(*E)); err != nil {
					return err
				}
				continue
			}
			b, err := ev.Encoded(func() ([]byte, error) { return proto.Marshal(newEvent()) })
			if err != nil {
				return err
			}
			if err := stream.SendMsg(encodedMessage(b)); err != nil {
				return err
			}
		}
	}
}
