package namespace

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/controller"
	"github.com/berth-dev/berth/pkg/defaults"
	"github.com/berth-dev/berth/pkg/events"
	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// Name is the controller's name in logs and metrics, and the component of its Events.
const Name = "namespace-controller"

// Defaults of Options.
const (
	DefaultWorkers      = 4
	DefaultRequeueDelay = 2 * time.Second
)

// listPageSize is the page size of the lists of a Namespace's content.
const listPageSize = 500

// Options configure the Namespace controller. The zero value works.
type Options struct {
	// Workers is how many Namespaces are emptied at once (DefaultWorkers when 0).
	Workers int
	// RequeueDelay is how long to wait before looking again at a Namespace whose content is
	// not all gone yet (DefaultRequeueDelay when 0).
	RequeueDelay time.Duration
	// Logger receives the controller's logs; none when nil.
	Logger *slog.Logger
	// Metrics receives the controller's metrics (see controller.Metrics); none when nil.
	Metrics *controller.Metrics
	// Recorder records Events about Namespaces. New records none when nil; Run then makes
	// and runs its own.
	Recorder *events.Recorder
}

// Controller is the Namespace controller.
type Controller struct {
	client     *client.Client
	namespaces informer.Lister[*corev1.Namespace]
	ctrl       *controller.Controller
	recorder   *events.Recorder
	requeue    time.Duration
	// resources are the namespaced resources to delete, workloads first so that nothing is
	// re-created from a template while its copies are being deleted.
	resources []*scheme.Resource
	now       func() time.Time
}

// New builds the Namespace controller on the Namespace informer of f. Start f, then call Run.
func New(c *client.Client, f *informer.Factory, opts Options) *Controller {
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.RequeueDelay <= 0 {
		opts.RequeueDelay = DefaultRequeueDelay
	}
	inf := f.For(scheme.Namespaces)
	n := &Controller{
		client:     c,
		namespaces: informer.NewLister[*corev1.Namespace](inf),
		recorder:   opts.Recorder,
		requeue:    opts.RequeueDelay,
		now:        time.Now,
	}
	for _, r := range slices.Backward(scheme.All) {
		if r.Namespaced {
			n.resources = append(n.resources, r)
		}
	}
	n.ctrl = controller.New(Name, n.reconcile, controller.Options{
		Workers: opts.Workers, Logger: opts.Logger, Metrics: opts.Metrics,
	})
	n.ctrl.Watch(inf, terminating)
	return n
}

// Run reconciles until ctx ends (see controller.Controller.Run).
func (n *Controller) Run(ctx context.Context) error { return n.ctrl.Run(ctx) }

// Run runs the Namespace controller through c until ctx ends, with its own informer and, when
// opts.Recorder is nil, its own Event recorder. Embedders that run several controllers share
// one informer.Factory and call New instead.
func Run(ctx context.Context, c *client.Client, opts Options) error {
	return controller.RunStandalone(ctx, c, opts.Logger, func(env controller.Env) controller.Runner {
		if opts.Recorder == nil {
			opts.Recorder = env.Recorder(Name)
		}
		return New(c, env.Factory, opts)
	})
}

// terminating enqueues only Namespaces being deleted.
func terminating(obj scheme.Object) []string {
	if obj.GetMetadata().GetDeletionTimestamp() == nil {
		return nil
	}
	return controller.OwnKey(obj)
}

// reconcile empties one terminating Namespace and then finalizes it.
func (n *Controller) reconcile(ctx context.Context, key string) (controller.Result, error) {
	log := controller.LoggerFrom(ctx)
	ns, ok := n.namespaces.Get("", key)
	if !ok || ns.GetMetadata().GetDeletionTimestamp() == nil {
		return controller.Result{}, nil
	}
	if !slices.Contains(ns.GetSpec().GetFinalizers(), defaults.FinalizerKubernetes) {
		// Finalized already: the apiserver removes it once metadata.finalizers are gone too.
		return controller.Result{}, nil
	}
	c := n.deleteContent(ctx, key)
	if ctx.Err() != nil {
		return controller.Result{}, ctx.Err()
	}
	if c.deleted > 0 {
		log.Info("deleted namespace content", "objects", c.deleted)
		n.event(ns, events.Normal, "ContentDeleted", "Deleted %d objects of the namespace", c.deleted)
	}
	ns, err := n.setConditions(ctx, ns, c.conditions())
	if kerrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, fmt.Errorf("update status of namespace %s: %w", key, err)
	}
	if len(c.errs) > 0 {
		err := utilerrors.NewAggregate(c.errs)
		n.event(ns, events.Warning, "ContentDeletionFailed", "Failed to delete all content: %v", err)
		return controller.Result{}, fmt.Errorf("delete content of namespace %s: %w", key, err)
	}
	if len(c.remaining) > 0 {
		log.Debug("namespace content remains", "remaining", c.remaining, "finalizers", c.finalizers)
		return controller.Result{RequeueAfter: n.requeue}, nil
	}
	if err := n.finalize(ctx, ns); err != nil {
		return controller.Result{}, fmt.Errorf("finalize namespace %s: %w", key, err)
	}
	log.Info("namespace finalized")
	return controller.Result{}, nil
}

// content is what one pass over a Namespace's content did and found.
type content struct {
	deleted    int
	remaining  map[string]int // "pods." or "deployments.apps" → objects left
	finalizers map[string]int // finalizer → objects left that carry it
	errs       []error
}

// deleteContent deletes every object in namespace ns and counts what is left.
func (n *Controller) deleteContent(ctx context.Context, ns string) content {
	c := content{remaining: map[string]int{}, finalizers: map[string]int{}}
	for _, r := range n.resources {
		rc := n.client.Resource(r)
		items, _, err := rc.ListAll(ctx, &metav1.ListOptions{Namespace: ns, Limit: listPageSize})
		if err != nil {
			c.errs = append(c.errs, fmt.Errorf("list %s: %w", r.GroupResource(), err))
			continue
		}
		if len(items) == 0 {
			continue
		}
		for _, obj := range items {
			md := obj.GetMetadata()
			if md.GetDeletionTimestamp() != nil && r != scheme.Pods {
				continue // deleting already: waits for its finalizers
			}
			req := &metav1.DeleteRequest{Namespace: ns, Name: md.GetName(), PropagationPolicy: "Background"}
			if r == scheme.Pods {
				// No agent finishes graceful Pod deletion yet, so Pods go at once (a Pod
				// already deleting with a longer grace period gets it shortened to 0). Once
				// agents exist they should get their grace period, as in Kubernetes.
				zero := int64(0)
				req.GracePeriodSeconds = &zero
			}
			if _, err := rc.Delete(ctx, req); err != nil && !kerrors.IsNotFound(err) {
				c.errs = append(c.errs, fmt.Errorf("delete %s %s/%s: %w", r.GroupResource(), ns, md.GetName(), err))
				continue
			}
			if md.GetDeletionTimestamp() == nil {
				c.deleted++
			}
		}
		left, _, err := rc.ListAll(ctx, &metav1.ListOptions{Namespace: ns, Limit: listPageSize})
		if err != nil {
			c.errs = append(c.errs, fmt.Errorf("list %s: %w", r.GroupResource(), err))
			continue
		}
		for _, obj := range left {
			// Kubernetes names resources "<resource>.<group>" here, "pods." in the core group.
			c.remaining[r.Plural+"."+r.Group]++
			for _, f := range obj.GetMetadata().GetFinalizers() {
				c.finalizers[f]++
			}
		}
	}
	return c
}

// Namespace condition types, reasons and messages, as Kubernetes' namespace controller sets
// them.
const (
	ConditionDiscoveryFailure    = "NamespaceDeletionDiscoveryFailure"
	ConditionGVParsingFailure    = "NamespaceDeletionGroupVersionParsingFailure"
	ConditionContentFailure      = "NamespaceDeletionContentFailure"
	ConditionContentRemaining    = "NamespaceContentRemaining"
	ConditionFinalizersRemaining = "NamespaceFinalizersRemaining"
)

// conditionTypes lists the conditions the controller maintains, in Kubernetes' order.
var conditionTypes = []string{
	ConditionDiscoveryFailure, ConditionGVParsingFailure, ConditionContentFailure,
	ConditionContentRemaining, ConditionFinalizersRemaining,
}

var okConditions = map[string]*corev1.NamespaceCondition{
	ConditionDiscoveryFailure:    {Status: "False", Reason: "ResourcesDiscovered", Message: "All resources successfully discovered"},
	ConditionGVParsingFailure:    {Status: "False", Reason: "ParsedGroupVersions", Message: "All legacy kube types successfully parsed"},
	ConditionContentFailure:      {Status: "False", Reason: "ContentDeleted", Message: "All content successfully deleted, may be waiting on finalization"},
	ConditionContentRemaining:    {Status: "False", Reason: "ContentRemoved", Message: "All content successfully removed"},
	ConditionFinalizersRemaining: {Status: "False", Reason: "ContentHasNoFinalizers", Message: "All content-preserving finalizers finished"},
}

// conditions are the Namespace conditions that describe c (without transition times).
func (c content) conditions() map[string]*corev1.NamespaceCondition {
	out := map[string]*corev1.NamespaceCondition{}
	for _, t := range conditionTypes {
		out[t] = proto.Clone(okConditions[t]).(*corev1.NamespaceCondition)
		out[t].Type = t
	}
	if len(c.errs) > 0 {
		out[ConditionContentFailure] = &corev1.NamespaceCondition{
			Type: ConditionContentFailure, Status: "True", Reason: "ContentDeletionFailed",
			Message: fmt.Sprintf("Failed to delete all resource types, %d remaining: %v", len(c.errs), utilerrors.NewAggregate(c.errs)),
		}
	}
	if len(c.remaining) > 0 {
		out[ConditionContentRemaining] = &corev1.NamespaceCondition{
			Type: ConditionContentRemaining, Status: "True", Reason: "SomeResourcesRemain",
			Message: "Some resources are remaining: " + counted(c.remaining, "%s has %d resource instances"),
		}
	}
	if len(c.finalizers) > 0 {
		out[ConditionFinalizersRemaining] = &corev1.NamespaceCondition{
			Type: ConditionFinalizersRemaining, Status: "True", Reason: "SomeFinalizersRemain",
			Message: "Some content in the namespace has finalizers remaining: " + counted(c.finalizers, "%s in %d resource instances"),
		}
	}
	return out
}

// counted formats each entry of m with format and joins them, sorted.
func counted(m map[string]int, format string) string {
	parts := make([]string, 0, len(m))
	for k, v := range m {
		parts = append(parts, fmt.Sprintf(format, k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// mergeConditions applies want to the conditions of status as Kubernetes does: a condition
// whose status, reason or message changed is replaced, its transition time moving only when
// its status changed. It reports whether anything changed.
func mergeConditions(status *corev1.NamespaceStatus, want map[string]*corev1.NamespaceCondition, now time.Time) bool {
	changed := false
	for _, t := range conditionTypes {
		w := want[t]
		var old *corev1.NamespaceCondition
		for _, c := range status.Conditions {
			if c.GetType() == t {
				old = c
				break
			}
		}
		switch {
		case old == nil:
			c := proto.Clone(w).(*corev1.NamespaceCondition)
			c.LastTransitionTime = timestamp(now)
			status.Conditions = append(status.Conditions, c)
			changed = true
		case old.GetStatus() != w.GetStatus() || old.GetReason() != w.GetReason() || old.GetMessage() != w.GetMessage():
			if old.GetStatus() != w.GetStatus() {
				old.LastTransitionTime = timestamp(now)
			}
			old.Status, old.Reason, old.Message = w.GetStatus(), w.GetReason(), w.GetMessage()
			changed = true
		}
	}
	return changed
}

// setConditions writes the conditions to ns's status when they differ, and returns the
// Namespace as stored.
func (n *Controller) setConditions(ctx context.Context, ns *corev1.Namespace, want map[string]*corev1.NamespaceCondition) (*corev1.Namespace, error) {
	upd := proto.Clone(ns).(*corev1.Namespace) // never modify the cache's copy
	if upd.Status == nil {
		upd.Status = &corev1.NamespaceStatus{}
	}
	if !mergeConditions(upd.Status, want, n.now()) {
		return ns, nil
	}
	out, err := n.client.Resource(scheme.Namespaces).UpdateStatus(ctx, upd)
	if err != nil {
		return nil, err
	}
	return out.(*corev1.Namespace), nil
}

// finalize removes the "kubernetes" finalizer from ns's spec.
func (n *Controller) finalize(ctx context.Context, ns *corev1.Namespace) error {
	upd := proto.Clone(ns).(*corev1.Namespace)
	upd.Spec.Finalizers = slices.DeleteFunc(upd.Spec.Finalizers, func(f string) bool { return f == defaults.FinalizerKubernetes })
	_, err := n.client.Resource(scheme.Namespaces).Update(ctx, upd)
	if kerrors.IsNotFound(err) {
		return nil
	}
	return err
}

func timestamp(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t.Truncate(time.Second)) }

func (n *Controller) event(ns *corev1.Namespace, eventType, reason, format string, args ...any) {
	if n.recorder != nil {
		n.recorder.Eventf(ns, eventType, reason, format, args...)
	}
}
