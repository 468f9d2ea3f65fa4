package endpoints

import (
	"context"
	"log/slog"
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/controller"
	"github.com/berth-dev/berth/pkg/events"
	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Name is the controller's name in logs and metrics.
const Name = "endpoints-controller"

// EventComponent is the source of the controller's Events, as Kubernetes names it.
const EventComponent = "endpoint-controller"

// DefaultWorkers is how many Services are reconciled at once by default (Kubernetes'
// --concurrent-endpoint-syncs).
const DefaultWorkers = 5

// Options configure the endpoints controller. The zero value works.
type Options struct {
	// Workers is how many Services are reconciled at once (DefaultWorkers when 0).
	Workers int
	// Logger receives the controller's logs; none when nil.
	Logger *slog.Logger
	// Metrics receives the controller's metrics (see controller.Metrics); none when nil.
	Metrics *controller.Metrics
	// Recorder records Events about failed writes and unresolved target ports; none when nil.
	Recorder *events.Recorder
}

// Controller keeps one Endpoints per Service with a selector in step with its Pods.
type Controller struct {
	client    *client.Client
	services  informer.Lister[*corev1.Service]
	pods      informer.Lister[*corev1.Pod]
	endpoints informer.Lister[*corev1.Endpoints]
	epInf     *informer.Informer
	ctrl      *controller.Controller
	recorder  *events.Recorder
	triggers  *triggerTimes
	stale     *staleTracker
	warnings  *portWarnings
}

// New builds the endpoints controller on the Service, Pod and Endpoints informers of f.
// Start f, then call Run.
func New(c *client.Client, f *informer.Factory, opts Options) *Controller {
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	svcInf, podInf, epInf := f.For(scheme.Services), f.For(scheme.Pods), f.For(scheme.Endpoints)
	e := &Controller{
		client:    c,
		services:  informer.NewLister[*corev1.Service](svcInf),
		pods:      informer.NewLister[*corev1.Pod](podInf),
		endpoints: informer.NewLister[*corev1.Endpoints](epInf),
		epInf:     epInf,
		recorder:  opts.Recorder,
		triggers:  newTriggerTimes(),
		stale:     newStaleTracker(),
		warnings:  newPortWarnings(),
	}
	e.ctrl = controller.New(Name, e.reconcile, controller.Options{
		Workers: opts.Workers, Logger: opts.Logger, Metrics: opts.Metrics,
	})
	// Every change of a Service reconciles it.
	e.ctrl.Watch(svcInf, nil)
	// Pods and Endpoints are waited for here and enqueue through handlers of their own: a Pod
	// change reconciles the Services whose selector matches the Pod (before or after), and only
	// when something an address depends on changed; a deleted Endpoints is put back, and the
	// controller's own writes, once cached, end the wait of a reconcile that ran before.
	e.ctrl.Watch(podInf, controller.NoKeys)
	e.ctrl.Watch(epInf, controller.NoKeys)
	podInf.AddHandler(informer.HandlerFuncs{
		AddFunc:    func(obj scheme.Object) { e.enqueueAll(e.memberships(obj.(*corev1.Pod))) },
		UpdateFunc: func(old, obj scheme.Object) { e.enqueueAll(e.podChanged(old.(*corev1.Pod), obj.(*corev1.Pod))) },
		DeleteFunc: func(obj scheme.Object) { e.enqueueAll(e.memberships(obj.(*corev1.Pod))) },
	})
	seen := func(obj scheme.Object) {
		key := informer.KeyOf(obj)
		if e.stale.observed(key, obj.GetMetadata().GetResourceVersion(), false) {
			e.ctrl.Enqueue(key) // the write a reconcile waited for
		}
	}
	epInf.AddHandler(informer.HandlerFuncs{
		AddFunc:    seen,
		UpdateFunc: func(_, obj scheme.Object) { seen(obj) },
		DeleteFunc: func(obj scheme.Object) {
			key := informer.KeyOf(obj)
			e.stale.observed(key, "", true)
			e.ctrl.Enqueue(key)
		},
	})
	return e
}

// Run reconciles until ctx ends (see controller.Controller.Run). Once the caches are synced it
// looks once at every Endpoints, as Kubernetes does, so that the Endpoints of Services
// deleted while no controller ran are deleted too.
func (e *Controller) Run(ctx context.Context) error {
	if informer.WaitForSync(ctx, e.epInf) {
		for _, ep := range e.endpoints.List() {
			if _, ok := ep.GetMetadata().GetAnnotations()[AnnotationLeader]; ok {
				continue // an old leader election's record, with no Service
			}
			e.ctrl.Enqueue(informer.KeyOf(ep))
		}
	}
	return e.ctrl.Run(ctx)
}

func (e *Controller) enqueueAll(keys []string) {
	for _, k := range keys {
		e.ctrl.Enqueue(k)
	}
}

// memberships are the keys of the Services in the Pod's namespace whose selector matches it.
func (e *Controller) memberships(pod *corev1.Pod) []string {
	md := pod.GetMetadata()
	var keys []string
	set := labels.Set(md.GetLabels())
	for _, svc := range e.services.ByNamespace(md.GetNamespace()) {
		sel := svc.GetSpec().GetSelector()
		if len(sel) == 0 {
			continue
		}
		if labels.SelectorFromValidatedSet(sel).Matches(set) {
			keys = append(keys, informer.KeyOf(svc))
		}
	}
	return keys
}

// podChanged are the Services to reconcile after a Pod changed from old to cur: none when
// nothing its addresses depend on changed; those it belongs to when its readiness, IPs,
// phase or deletion changed; and, when its labels (or hostname, subdomain) changed, those it
// joined or left too.
func (e *Controller) podChanged(old, cur *corev1.Pod) []string {
	if old.GetMetadata().GetResourceVersion() == cur.GetMetadata().GetResourceVersion() {
		return nil
	}
	om, cm := old.GetMetadata(), cur.GetMetadata()
	relabeled := !maps.Equal(om.GetLabels(), cm.GetLabels()) ||
		old.GetSpec().GetHostname() != cur.GetSpec().GetHostname() ||
		old.GetSpec().GetSubdomain() != cur.GetSpec().GetSubdomain()
	changed := (om.GetDeletionTimestamp() == nil) != (cm.GetDeletionTimestamp() == nil) ||
		podReady(old) != podReady(cur) ||
		old.GetStatus().GetPhase() != cur.GetStatus().GetPhase() ||
		old.GetStatus().GetPodIp() != cur.GetStatus().GetPodIp() ||
		!slices.EqualFunc(old.GetStatus().GetPodIps(), cur.GetStatus().GetPodIps(), func(a, b *corev1.PodIP) bool { return a.GetIp() == b.GetIp() })
	if !changed && !relabeled {
		return nil
	}
	now := e.memberships(cur)
	if !relabeled {
		return now
	}
	before := e.memberships(old)
	if changed {
		return union(now, before)
	}
	// Only the labels changed: the Services it joined or left.
	var keys []string
	for _, k := range now {
		if !slices.Contains(before, k) {
			keys = append(keys, k)
		}
	}
	for _, k := range before {
		if !slices.Contains(now, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, k := range b {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}
