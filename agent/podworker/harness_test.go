package podworker

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/berth-dev/berth/agent/runtime"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// sink keeps what the workers report.
type sink struct {
	mu       sync.Mutex
	statuses map[string][]*corev1.PodStatus
	finished []string
}

func (s *sink) SetStatus(pod *corev1.Pod, st *corev1.PodStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	uid := pod.GetMetadata().GetUid()
	s.statuses[uid] = append(s.statuses[uid], proto.Clone(st).(*corev1.PodStatus))
}

func (s *sink) Finish(pod *corev1.Pod) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finished = append(s.finished, pod.GetMetadata().GetUid())
}

// last is the latest status of the Pod (nil if none yet).
func (s *sink) last(uid string) *corev1.PodStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.statuses[uid]
	if len(h) == 0 {
		return nil
	}
	return h[len(h)-1]
}

func (s *sink) history(uid string) []*corev1.PodStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*corev1.PodStatus(nil), s.statuses[uid]...)
}

func (s *sink) finishedUIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.finished...)
}

// recorder keeps the Events as "Type Reason: message".
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) Eventf(_ scheme.Object, eventType, reason, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf("%s %s: %s", eventType, reason, fmt.Sprintf(format, args...)))
}

// find returns the events containing s.
func (r *recorder) find(s string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if strings.Contains(e, s) {
			out = append(out, e)
		}
	}
	return out
}

// objects is a Lookup over ConfigMaps and Secrets that tests change as they go.
type objects struct {
	mu         sync.Mutex
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
}

func (o *objects) ConfigMap(_ context.Context, ns, name string) (*corev1.ConfigMap, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if cm, ok := o.configMaps[ns+"/"+name]; ok {
		return cm, nil
	}
	return nil, kerrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, name)
}

func (o *objects) Secret(_ context.Context, ns, name string) (*corev1.Secret, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if s, ok := o.secrets[ns+"/"+name]; ok {
		return s, nil
	}
	return nil, kerrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
}

func (o *objects) setConfigMap(cm *corev1.ConfigMap) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.configMaps == nil {
		o.configMaps = map[string]*corev1.ConfigMap{}
	}
	o.configMaps[cm.GetMetadata().GetNamespace()+"/"+cm.GetMetadata().GetName()] = cm
}

// env is one test's Manager on a runtime, running until the test ends.
type env struct {
	t       *testing.T
	rt      runtime.Runtime
	m       *Manager
	sink    *sink
	events  *recorder
	objects *objects
	root    string
	stop    func()
}

// start runs a Manager on rt (adopting bound) until the test ends.
func start(t *testing.T, rt runtime.Runtime, node string, bound ...*corev1.Pod) *env {
	t.Helper()
	e := &env{t: t, rt: rt, sink: &sink{statuses: map[string][]*corev1.PodStatus{}}, events: &recorder{}, objects: &objects{}, root: t.TempDir()}
	m, err := New(Config{
		Runtime: rt, NodeName: node, RootDir: e.root, Lookup: e.objects, Recorder: e.events,
		Sink: e.sink, HostIP: "192.168.0.10",
	})
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Adopt(ctx, bound); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Run(ctx)
	}()
	e.stop = func() {
		cancel()
		<-done
	}
	t.Cleanup(e.stop)
	return e
}

var podCounter int

// newPod returns a Pod named name with Kubernetes' defaults for what the worker reads.
func newPod(name, policy string, containers ...*corev1.Container) *corev1.Pod {
	podCounter++
	for _, c := range containers {
		if c.ImagePullPolicy == "" {
			c.ImagePullPolicy = "IfNotPresent"
		}
		if c.Image == "" {
			c.Image = "app:1"
		}
	}
	return &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: "default", Uid: fmt.Sprintf("uid-%s-%d", name, podCounter)},
		Spec: &corev1.PodSpec{
			RestartPolicy: policy, Containers: containers, NodeName: "node-a",
			TerminationGracePeriodSeconds: proto.Int64(30),
		},
	}
}

func ctr(name string, cmd ...string) *corev1.Container {
	return &corev1.Container{Name: name, Command: cmd}
}

// deleting returns pod as the apiserver has it once deleted with grace seconds.
func deleting(pod *corev1.Pod, grace int64) *corev1.Pod {
	p := proto.Clone(pod).(*corev1.Pod)
	p.Metadata.DeletionTimestamp = timestamppb.Now()
	p.Metadata.DeletionGracePeriodSeconds = proto.Int64(grace)
	return p
}

// containerState summarizes a container's status: "waiting:Reason", "running",
// "terminated:Reason:code", and the restart count.
func containerState(st *corev1.PodStatus, name string) (string, int32) {
	for _, cs := range append(append([]*corev1.ContainerStatus(nil), st.GetInitContainerStatuses()...), st.GetContainerStatuses()...) {
		if cs.GetName() != name {
			continue
		}
		s := cs.GetState()
		switch {
		case s.GetWaiting() != nil:
			return "waiting:" + s.GetWaiting().GetReason(), cs.GetRestartCount()
		case s.GetRunning() != nil:
			return "running", cs.GetRestartCount()
		case s.GetTerminated() != nil:
			return fmt.Sprintf("terminated:%s:%d", s.GetTerminated().GetReason(), s.GetTerminated().GetExitCode()), cs.GetRestartCount()
		}
	}
	return "", 0
}

func condition(st *corev1.PodStatus, typ string) string {
	for _, c := range st.GetConditions() {
		if c.GetType() == typ {
			return c.GetStatus()
		}
	}
	return ""
}
