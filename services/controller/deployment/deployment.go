package deployment

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/protobuf/proto"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/controller"
	"github.com/berth-dev/berth/pkg/controllerref"
	"github.com/berth-dev/berth/pkg/events"
	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/scheme"
	"github.com/berth-dev/berth/pkg/selector"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// Name is the controller's name in logs and metrics, and the component of its Events.
const Name = "deployment-controller"

// DefaultWorkers is how many Deployments are reconciled at once by default (Kubernetes'
// --concurrent-deployment-syncs).
const DefaultWorkers = 5

// Options configure the Deployment controller. The zero value works.
type Options struct {
	// Workers is how many Deployments are reconciled at once (DefaultWorkers when 0).
	Workers int
	// Logger receives the controller's logs; none when nil.
	Logger *slog.Logger
	// Metrics receives the controller's metrics (see controller.Metrics); none when nil.
	Metrics *controller.Metrics
	// Recorder records Events about Deployments. New records none when nil; Run then makes
	// and runs its own.
	Recorder *events.Recorder
}

// Controller is the Deployment controller.
type Controller struct {
	client      *client.Client
	deployments informer.Lister[*appsv1.Deployment]
	replicaSets informer.Lister[*appsv1.ReplicaSet]
	pods        informer.Lister[*corev1.Pod]
	ctrl        *controller.Controller
	recorder    *events.Recorder
	now         func() time.Time
}

// New builds the Deployment controller on the Deployment, ReplicaSet and Pod informers of f.
// Start f, then call Run.
func New(c *client.Client, f *informer.Factory, opts Options) *Controller {
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	dInf, rsInf, podInf := f.For(scheme.Deployments), f.For(scheme.ReplicaSets), f.For(scheme.Pods)
	dc := &Controller{
		client:      c,
		deployments: informer.NewLister[*appsv1.Deployment](dInf),
		replicaSets: informer.NewLister[*appsv1.ReplicaSet](rsInf),
		pods:        informer.NewLister[*corev1.Pod](podInf),
		recorder:    opts.Recorder,
		now:         time.Now,
	}
	dc.ctrl = controller.New(Name, dc.reconcile, controller.Options{
		Workers: opts.Workers, Logger: opts.Logger, Metrics: opts.Metrics,
	})
	dc.ctrl.Watch(dInf, nil)
	dc.ctrl.Watch(rsInf, dc.replicaSetKeys)
	// Pods: only their cache is needed (Recreate waits for old Pods), and deletions of the
	// Pods of Recreate Deployments.
	dc.ctrl.Watch(podInf, controller.NoKeys)
	podInf.AddHandler(informer.HandlerFuncs{DeleteFunc: dc.podDeleted})
	return dc
}

// Run reconciles until ctx ends (see controller.Controller.Run).
func (dc *Controller) Run(ctx context.Context) error { return dc.ctrl.Run(ctx) }

// Run runs the Deployment controller through c until ctx ends, with its own informers and,
// when opts.Recorder is nil, its own Event recorder (see controller.RunStandalone). Embedders
// that run several controllers share one informer.Factory and call New instead.
func Run(ctx context.Context, c *client.Client, opts Options) error {
	return controller.RunStandalone(ctx, c, opts.Logger, func(env controller.Env) controller.Runner {
		if opts.Recorder == nil {
			opts.Recorder = env.Recorder(Name)
		}
		return New(c, env.Factory, opts)
	})
}

// replicaSetKeys maps a ReplicaSet to its controlling Deployment, or, for an orphan, to
// every Deployment of its namespace that selects it (one of them may adopt it).
func (dc *Controller) replicaSetKeys(obj scheme.Object) []string {
	rs := obj.(*appsv1.ReplicaSet)
	ns := rs.GetMetadata().GetNamespace()
	if ref := controllerref.Of(rs); ref != nil {
		if d := dc.resolveControllerRef(ns, ref); d != nil {
			return []string{informer.KeyOf(d)}
		}
		return nil
	}
	if len(rs.GetMetadata().GetLabels()) == 0 {
		return nil
	}
	var keys []string
	for _, d := range dc.deployments.ByNamespace(ns) {
		sel, err := selector.Parse(d.GetSpec().GetSelector())
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(rs.GetMetadata().GetLabels())) {
			continue
		}
		keys = append(keys, informer.KeyOf(d))
	}
	return keys
}

// resolveControllerRef returns the cached Deployment ref names, if it is still that one.
func (dc *Controller) resolveControllerRef(ns string, ref *metav1.OwnerReference) *appsv1.Deployment {
	if ref.GetKind() != scheme.Deployments.Kind {
		return nil
	}
	d, ok := dc.deployments.Get(ns, ref.GetName())
	if !ok || d.GetMetadata().GetUid() != ref.GetUid() {
		return nil
	}
	return d
}

// podDeleted enqueues the Recreate Deployment of a deleted Pod: it may be waiting for its
// old Pods to be gone.
func (dc *Controller) podDeleted(obj scheme.Object) {
	pod := obj.(*corev1.Pod)
	ns := pod.GetMetadata().GetNamespace()
	ref := controllerref.Of(pod)
	if ref == nil || ref.GetKind() != scheme.ReplicaSets.Kind {
		return
	}
	rs, ok := dc.replicaSets.Get(ns, ref.GetName())
	if !ok || rs.GetMetadata().GetUid() != ref.GetUid() {
		return
	}
	rsRef := controllerref.Of(rs)
	if rsRef == nil {
		return
	}
	if d := dc.resolveControllerRef(ns, rsRef); d != nil && d.GetSpec().GetStrategy().GetType() == StrategyRecreate {
		dc.ctrl.Enqueue(informer.KeyOf(d))
	}
}

// reconcile brings one Deployment's ReplicaSets and status in line with its spec, as
// Kubernetes' syncDeployment does.
func (dc *Controller) reconcile(ctx context.Context, key string) (controller.Result, error) {
	ns, name := scheme.SplitKey(key)
	cached, ok := dc.deployments.Get(ns, name)
	if !ok {
		controller.LoggerFrom(ctx).Debug("deployment has been deleted")
		return controller.Result{}, nil
	}
	d := proto.Clone(cached).(*appsv1.Deployment) // never modify the cache's copy
	if d.Spec == nil {
		d.Spec = &appsv1.DeploymentSpec{}
	}
	if d.Status == nil {
		d.Status = &appsv1.DeploymentStatus{}
	}
	if sel := d.Spec.GetSelector(); len(sel.GetMatchLabels()) == 0 && len(sel.GetMatchExpressions()) == 0 {
		dc.event(d, events.Warning, "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.")
		if d.Status.ObservedGeneration < d.Metadata.GetGeneration() {
			d.Status.ObservedGeneration = d.Metadata.GetGeneration()
			if err := dc.updateStatus(ctx, d); err != nil {
				return controller.Result{}, fmt.Errorf("update status of deployment %s: %w", key, err)
			}
		}
		return controller.Result{}, nil
	}
	rsList, err := dc.replicaSetsFor(ctx, d)
	if err != nil {
		return controller.Result{}, fmt.Errorf("claim replica sets of deployment %s: %w", key, err)
	}
	res, err := dc.sync(ctx, d, rsList)
	if err != nil {
		if kerrors.HasStatusCause(err, namespaceTerminatingCause) {
			return controller.Result{}, nil // every create fails in a terminating namespace
		}
		return res, fmt.Errorf("sync deployment %s: %w", key, err)
	}
	return res, nil
}

// sync chooses what to do with d: only status while it is being deleted, scaling while it is
// paused or its replicas changed, else a rollout of its strategy.
func (dc *Controller) sync(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) (controller.Result, error) {
	if d.Metadata.GetDeletionTimestamp() != nil {
		return controller.Result{}, dc.syncStatusOnly(ctx, d, rsList)
	}
	if err := dc.checkPausedConditions(ctx, d); err != nil {
		return controller.Result{}, err
	}
	if d.Spec.GetPaused() {
		return controller.Result{}, dc.syncScale(ctx, d, rsList)
	}
	scaling, err := dc.isScalingEvent(ctx, d, rsList)
	if err != nil {
		return controller.Result{}, err
	}
	if scaling {
		return controller.Result{}, dc.syncScale(ctx, d, rsList)
	}
	switch t := d.Spec.GetStrategy().GetType(); t {
	case StrategyRecreate:
		return dc.rolloutRecreate(ctx, d, rsList, dc.podMapFor(d, rsList))
	case StrategyRollingUpdate:
		return dc.rolloutRolling(ctx, d, rsList)
	default:
		dc.event(d, events.Warning, "UnknownStrategy", "Unexpected deployment strategy type: %s", t)
		return controller.Result{}, controller.Terminal(fmt.Errorf("unexpected deployment strategy type: %s", t))
	}
}

// replicaSetsFor claims the ReplicaSets of d's namespace: those it controls and selects, and
// the orphans it selects (adopted), releasing those it no longer selects.
func (dc *Controller) replicaSetsFor(ctx context.Context, d *appsv1.Deployment) ([]*appsv1.ReplicaSet, error) {
	sel, err := selector.Parse(d.Spec.GetSelector())
	if err != nil {
		dc.event(d, events.Warning, "InvalidSelector", "Invalid label selector: %v", err)
		return nil, controller.Terminal(fmt.Errorf("deployment %s has invalid label selector: %w", informer.KeyOf(d), err))
	}
	var objs []scheme.Object
	for _, rs := range dc.replicaSets.ByNamespace(d.Metadata.GetNamespace()) {
		objs = append(objs, rs)
	}
	m := &controllerref.Manager{
		Owner: d, Selector: sel, Dependents: dc.client.Resource(scheme.ReplicaSets),
		CanAdopt: controllerref.FreshOwner(dc.client.Resource(scheme.Deployments), d),
	}
	claimed, err := m.Claim(ctx, objs)
	out := make([]*appsv1.ReplicaSet, 0, len(claimed))
	for _, o := range claimed {
		out = append(out, o.(*appsv1.ReplicaSet))
	}
	return out, err
}

// podMapFor groups the Pods d selects by the uid of their ReplicaSet among rsList.
func (dc *Controller) podMapFor(d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) map[string][]*corev1.Pod {
	m := make(map[string][]*corev1.Pod, len(rsList))
	for _, rs := range rsList {
		m[rs.GetMetadata().GetUid()] = nil
	}
	sel, err := selector.Parse(d.Spec.GetSelector())
	if err != nil {
		return m
	}
	for _, pod := range dc.pods.ByNamespace(d.Metadata.GetNamespace()) {
		if !sel.Matches(labels.Set(pod.GetMetadata().GetLabels())) {
			continue
		}
		ref := controllerref.Of(pod)
		if ref == nil {
			continue
		}
		if pods, ok := m[ref.GetUid()]; ok {
			m[ref.GetUid()] = append(pods, pod)
		}
	}
	return m
}

// updateStatus writes d's status and keeps d's resourceVersion current.
func (dc *Controller) updateStatus(ctx context.Context, d *appsv1.Deployment) error {
	out, err := dc.client.Resource(scheme.Deployments).UpdateStatus(ctx, d)
	if err != nil {
		return err
	}
	d.Metadata.ResourceVersion = out.GetMetadata().GetResourceVersion()
	return nil
}

// updateMeta writes d's metadata (its revision annotation) and keeps d's resourceVersion
// current. Berth's status subresource writes only status, so this is a separate write.
func (dc *Controller) updateMeta(ctx context.Context, d *appsv1.Deployment) error {
	out, err := dc.client.Resource(scheme.Deployments).Update(ctx, d)
	if err != nil {
		return err
	}
	d.Metadata.ResourceVersion = out.GetMetadata().GetResourceVersion()
	d.Metadata.Generation = out.GetMetadata().GetGeneration()
	return nil
}

// writeDeployment writes what changed of d: metadata first, then status.
func (dc *Controller) writeDeployment(ctx context.Context, d *appsv1.Deployment, meta, status bool) error {
	if meta {
		if err := dc.updateMeta(ctx, d); err != nil {
			return fmt.Errorf("update revision of deployment: %w", err)
		}
	}
	if status {
		if err := dc.updateStatus(ctx, d); err != nil {
			return fmt.Errorf("update status of deployment: %w", err)
		}
	}
	return nil
}

func (dc *Controller) event(d *appsv1.Deployment, eventType, reason, format string, args ...any) {
	if dc.recorder != nil {
		dc.recorder.Eventf(d, eventType, reason, format, args...)
	}
}
