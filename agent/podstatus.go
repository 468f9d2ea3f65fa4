package agent

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/scheme"
	"github.com/berth-dev/berth/pkg/workqueue"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// statusManager writes the Pod statuses the pod workers compute, and finishes the deletion of
// Pods they have torn down. Statuses are coalesced per Pod (only the latest is written), a
// status equal to the last one written is not written again, and a write that conflicts is
// retried on a fresh read of the Pod.
type statusManager struct {
	pods    *client.ResourceClient
	cache   informer.Lister[*corev1.Pod]
	metrics *metrics
	log     logger

	mu sync.Mutex
	// want is the next thing to do for a Pod, by namespace/name.
	want map[string]*podWant
	// written is the last status written, by Pod uid.
	written map[string]*corev1.PodStatus
	queue   *workqueue.Queue
}

// logger is the subset of *slog.Logger the status manager uses.
type logger interface {
	Info(msg string, args ...any)
	Warn(msg string, args ...any)
	Debug(msg string, args ...any)
}

var _ podSink = (*statusManager)(nil)

// podWant is what remains to be done for one Pod.
type podWant struct {
	uid    string
	status *corev1.PodStatus // nil: nothing new to write
	delete bool              // finish the deletion once the status is written
}

func newStatusManager(pods *client.ResourceClient, cache informer.Lister[*corev1.Pod], m *metrics, log logger) *statusManager {
	return &statusManager{
		pods: pods, cache: cache, metrics: m, log: log,
		want: map[string]*podWant{}, written: map[string]*corev1.PodStatus{},
		queue: workqueue.New(workqueue.NewItemExponential(50*time.Millisecond, 30*time.Second)),
	}
}

// SetStatus records the status of pod to be written. It never blocks on the apiserver.
func (m *statusManager) SetStatus(pod *corev1.Pod, status *corev1.PodStatus) {
	md := pod.GetMetadata()
	key := scheme.Key(md.GetNamespace(), md.GetName())
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.want[key]
	if w == nil || w.uid != md.GetUid() {
		if proto.Equal(m.written[md.GetUid()], status) {
			return // written already
		}
		w = &podWant{uid: md.GetUid()}
		m.want[key] = w
	}
	w.status = proto.Clone(status).(*corev1.PodStatus)
	m.queue.Add(key)
}

// Finish deletes pod from the apiserver (gracePeriodSeconds 0, uid precondition) after its
// last status is written: the pod workers call it once a Pod with a deletionTimestamp is torn
// down.
func (m *statusManager) Finish(pod *corev1.Pod) {
	md := pod.GetMetadata()
	key := scheme.Key(md.GetNamespace(), md.GetName())
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.want[key]
	if w == nil || w.uid != md.GetUid() {
		w = &podWant{uid: md.GetUid()}
		m.want[key] = w
	}
	w.delete = true
	m.queue.Add(key)
}

// Forget drops what the manager holds for a Pod that is gone from the apiserver.
func (m *statusManager) Forget(pod *corev1.Pod) {
	md := pod.GetMetadata()
	key := scheme.Key(md.GetNamespace(), md.GetName())
	m.mu.Lock()
	defer m.mu.Unlock()
	if w := m.want[key]; w != nil && w.uid == md.GetUid() {
		delete(m.want, key)
	}
	delete(m.written, md.GetUid())
}

// run processes the queue with n workers until ctx ends.
func (m *statusManager) run(ctx context.Context, n int) {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				key, shutdown := m.queue.Get()
				if shutdown {
					return
				}
				err := m.sync(ctx, key)
				switch {
				case err == nil || ctx.Err() != nil:
					m.queue.Forget(key)
				default:
					m.log.Warn("pod status", "pod", key, "err", err)
					m.queue.AddRateLimited(key)
				}
				m.queue.Done(key)
			}
		}()
	}
	<-ctx.Done()
	m.queue.ShutDown()
	wg.Wait()
}

// sync does what is wanted for one Pod: write its status, then finish its deletion.
func (m *statusManager) sync(ctx context.Context, key string) error {
	m.mu.Lock()
	w := m.want[key]
	var want podWant
	if w != nil {
		want = *w
		w.status = nil // taken; a newer SetStatus puts a new one
	}
	m.mu.Unlock()
	if w == nil {
		return nil
	}
	ns, name := splitKey(key)
	if want.status != nil {
		gone, err := m.writeStatus(ctx, ns, name, want.uid, want.status)
		if err != nil {
			m.mu.Lock()
			if w.status == nil {
				w.status = want.status // retry it, unless a newer one came
			}
			m.mu.Unlock()
			return err
		}
		if gone {
			m.drop(key, w)
			return nil
		}
	}
	if want.delete {
		if err := m.deletePod(ctx, ns, name, want.uid); err != nil {
			return err
		}
		m.drop(key, w)
		return nil
	}
	m.mu.Lock()
	if m.want[key] == w && w.status == nil && !w.delete {
		delete(m.want, key)
	}
	m.mu.Unlock()
	return nil
}

// drop forgets w, unless it was replaced meanwhile.
func (m *statusManager) drop(key string, w *podWant) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.want[key] == w {
		delete(m.want, key)
	}
	delete(m.written, w.uid)
}

// writeStatus writes status to the Pod namespace/name with uid, starting from the cached copy
// and re-reading it on conflict. gone is true when the Pod no longer exists (or is another
// Pod of the same name).
func (m *statusManager) writeStatus(ctx context.Context, ns, name, uid string, status *corev1.PodStatus) (gone bool, err error) {
	pod, ok := m.cache.Get(ns, name)
	for attempt := 0; ; attempt++ {
		if !ok || pod.GetMetadata().GetUid() != uid {
			obj, err := m.pods.Get(ctx, ns, name)
			if kerrors.IsNotFound(err) {
				return true, nil
			}
			if err != nil {
				return false, fmt.Errorf("read pod: %w", err)
			}
			pod = obj.(*corev1.Pod)
			if pod.GetMetadata().GetUid() != uid {
				return true, nil
			}
		}
		next := proto.Clone(pod).(*corev1.Pod)
		next.Status = mergeStatus(pod.GetStatus(), status)
		if next.Status == nil || proto.Equal(next.Status, pod.GetStatus()) {
			m.remember(uid, status)
			return false, nil
		}
		_, err := m.pods.UpdateStatus(ctx, next)
		switch {
		case err == nil:
			m.metrics.statusUpdates.WithLabelValues("pod", "ok").Inc()
			m.log.Debug("pod status written", "pod", ns+"/"+name, "phase", next.Status.GetPhase())
			m.remember(uid, status)
			return false, nil
		case kerrors.IsConflict(err) && attempt < 10:
			m.metrics.statusUpdates.WithLabelValues("pod", "conflict").Inc()
			ok = false // re-read
		case kerrors.IsNotFound(err):
			return true, nil
		default:
			m.metrics.statusUpdates.WithLabelValues("pod", "error").Inc()
			return false, fmt.Errorf("update status: %w", err)
		}
	}
}

func (m *statusManager) remember(uid string, status *corev1.PodStatus) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.written[uid] = status
}

// mergeStatus is the status to store: the workers' status, keeping what others own in the
// stored one (the PodScheduled condition the scheduler set, the QoS class the apiserver
// computed), and never moving a Pod out of a terminal phase. It returns nil when nothing may
// be written.
func mergeStatus(old, status *corev1.PodStatus) *corev1.PodStatus {
	switch old.GetPhase() {
	case "Succeeded", "Failed":
		if p := status.GetPhase(); p != "Succeeded" && p != "Failed" {
			return nil
		}
	}
	out := proto.Clone(status).(*corev1.PodStatus)
	if out.QosClass == "" {
		out.QosClass = old.GetQosClass()
	}
	if out.NominatedNodeName == "" {
		out.NominatedNodeName = old.GetNominatedNodeName()
	}
	for _, oc := range old.GetConditions() {
		found := false
		for _, c := range out.Conditions {
			found = found || c.GetType() == oc.GetType()
		}
		if !found && oc.GetType() == "PodScheduled" {
			out.Conditions = append([]*corev1.PodCondition{proto.Clone(oc).(*corev1.PodCondition)}, out.Conditions...)
		}
	}
	return out
}

// deletePod finishes the deletion of a torn-down Pod: gracePeriodSeconds 0 and a uid
// precondition, so that a new Pod of the same name is never deleted by mistake.
func (m *statusManager) deletePod(ctx context.Context, ns, name, uid string) error {
	zero := int64(0)
	_, err := m.pods.Delete(ctx, &metav1.DeleteRequest{
		Namespace: ns, Name: name, GracePeriodSeconds: &zero,
		Preconditions: &metav1.Preconditions{Uid: &uid},
	})
	switch {
	case err == nil:
		m.metrics.podDeletions.WithLabelValues("ok").Inc()
		m.log.Debug("pod deleted", "pod", ns+"/"+name, "uid", uid)
		return nil
	case kerrors.IsNotFound(err), kerrors.IsConflict(err):
		return nil // gone already, or another Pod of the same name now
	}
	m.metrics.podDeletions.WithLabelValues("error").Inc()
	return fmt.Errorf("delete pod: %w", err)
}

func splitKey(key string) (ns, name string) {
	for i := 0; i < len(key); i++ {
		if key[i] == '/' {
			return key[:i], key[i+1:]
		}
	}
	return "", key
}
