package events

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// Event types.
const (
	Normal  = "Normal"
	Warning = "Warning"
)

// aggregationWindow is how long a repeated event keeps counting on the same Event object.
const aggregationWindow = 10 * time.Minute

// queueSize bounds the events waiting to be written; beyond it new ones are dropped (and
// logged), so a component never stalls on a slow apiserver.
const queueSize = 1000

// Recorder records Events for one component.
type Recorder struct {
	events    corev1.EventServiceClient
	component string
	host      string
	log       *slog.Logger
	queue     chan *corev1.Event
	now       func() time.Time

	mu   sync.Mutex
	seen map[string]seenEvent
}

type seenEvent struct {
	namespace, name string
	count           int32
	last            time.Time
}

// New returns a recorder writing through events for component (e.g. "default-scheduler"),
// running on host (may be empty). Call Run to write.
func New(events corev1.EventServiceClient, component, host string, log *slog.Logger) *Recorder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{
		events: events, component: component, host: host, log: log,
		queue: make(chan *corev1.Event, queueSize), now: time.Now, seen: map[string]seenEvent{},
	}
}

// Eventf records an event about obj. eventType is Normal or Warning; reason is a short
// UpperCamelCase word.
func (r *Recorder) Eventf(obj scheme.Object, eventType, reason, format string, args ...any) {
	res := scheme.ForObject(obj)
	md := obj.GetMetadata()
	ns := md.GetNamespace()
	if ns == "" {
		ns = "default" // events about cluster-scoped objects live in default, as in Kubernetes
	}
	ref := &corev1.ObjectReference{
		Name: md.GetName(), Namespace: md.GetNamespace(), Uid: md.GetUid(), ResourceVersion: md.GetResourceVersion(),
	}
	if res != nil {
		ref.Kind, ref.ApiVersion = res.Kind, res.APIVersion()
	}
	now := timestamppb.New(r.now().Truncate(time.Second))
	ev := &corev1.Event{
		Metadata:           &metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s.%x", md.GetName(), r.now().UnixNano())},
		InvolvedObject:     ref,
		Reason:             reason,
		Message:            fmt.Sprintf(format, args...),
		Source:             &corev1.EventSource{Component: r.component, Host: r.host},
		FirstTimestamp:     now,
		LastTimestamp:      now,
		Count:              1,
		Type:               eventType,
		ReportingComponent: r.component,
		ReportingInstance:  r.host,
	}
	select {
	case r.queue <- ev:
	default:
		r.log.Warn("event queue full, dropping event", "object", md.GetName(), "reason", reason)
	}
}

// Run writes queued events until ctx ends.
func (r *Recorder) Run(ctx context.Context) {
	for {
		select {
		case ev := <-r.queue:
			if err := r.write(ctx, ev); err != nil && ctx.Err() == nil {
				r.log.Warn("write event", "object", ev.GetInvolvedObject().GetName(), "reason", ev.GetReason(), "err", err)
			}
		case <-ctx.Done():
			return
		}
	}
}

func aggregateKey(ev *corev1.Event) string {
	io := ev.GetInvolvedObject()
	return strings.Join([]string{io.GetKind(), io.GetNamespace(), io.GetName(), io.GetUid(), ev.GetType(), ev.GetReason(), ev.GetMessage(), ev.GetSource().GetComponent()}, "\x00")
}

// write creates the event, or bumps the count of the same event seen within the window.
func (r *Recorder) write(ctx context.Context, ev *corev1.Event) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	key := aggregateKey(ev)
	now := r.now()
	r.mu.Lock()
	prev, ok := r.seen[key]
	r.mu.Unlock()
	if ok && now.Sub(prev.last) < aggregationWindow {
		cur, err := r.events.Get(ctx, &metav1.GetRequest{Namespace: prev.namespace, Name: prev.name})
		if err == nil {
			cur.Count++
			cur.LastTimestamp = ev.LastTimestamp
			if upd, err := r.events.Update(ctx, cur); err == nil {
				r.remember(key, upd, now)
				return nil
			}
		} else if !kerrors.IsNotFound(err) {
			return fmt.Errorf("read event %s/%s: %w", prev.namespace, prev.name, err)
		}
	}
	created, err := r.events.Create(ctx, ev)
	if err != nil {
		return fmt.Errorf("create event %s/%s: %w", ev.GetMetadata().GetNamespace(), ev.GetMetadata().GetName(), err)
	}
	r.remember(key, created, now)
	return nil
}

func (r *Recorder) remember(key string, ev *corev1.Event, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[key] = seenEvent{namespace: ev.GetMetadata().GetNamespace(), name: ev.GetMetadata().GetName(), count: ev.GetCount(), last: now}
	if len(r.seen) > 4096 { // forget what is out of the window
		for k, s := range r.seen {
			if now.Sub(s.last) >= aggregationWindow {
				delete(r.seen, k)
			}
		}
	}
}
