package nodelifecycle

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/controller"
	"github.com/berth-dev/berth/pkg/events"
	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/scheme"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Name is the controller's name in logs and metrics, and the component of its Events about
// Nodes (Kubernetes' "node-controller").
const Name = "node-controller"

// EvictionComponent is the component of the eviction Events, as in Kubernetes.
const EvictionComponent = "taint-eviction-controller"

// LeaseNamespace holds the Nodes' heartbeat Leases.
const LeaseNamespace = "kube-node-lease"

// IndexNodeName indexes Pods by spec.nodeName.
const IndexNodeName = "spec.nodeName"

// Defaults of Options, Kubernetes' own.
const (
	DefaultNodeMonitorGracePeriod = 40 * time.Second
	DefaultNodeStartupGracePeriod = time.Minute
	DefaultPodEvictionTimeout     = 5 * time.Minute
	DefaultPodGCQuarantine        = 40 * time.Second
	DefaultWorkers                = 4
)

// Options configure the controller. The zero value works.
type Options struct {
	// NodeMonitorGracePeriod is how long a Node may send no heartbeat before it is marked
	// Unknown (DefaultNodeMonitorGracePeriod when 0).
	NodeMonitorGracePeriod time.Duration
	// NodeStartupGracePeriod replaces it for a Node that never reported a Ready condition
	// (DefaultNodeStartupGracePeriod when 0).
	NodeStartupGracePeriod time.Duration
	// PodEvictionTimeout is how long Pods stay on a not-ready or unreachable Node whose taint
	// they do not tolerate (DefaultPodEvictionTimeout when 0).
	PodEvictionTimeout time.Duration
	// PodGCQuarantine is how long Pods of a missing Node wait before they are deleted
	// (DefaultPodGCQuarantine when 0).
	PodGCQuarantine time.Duration
	// Workers is how many Nodes are reconciled at once (DefaultWorkers when 0).
	Workers int
	// Logger receives the controller's logs; none when nil.
	Logger *slog.Logger
	// Metrics receives the controller's metrics (see controller.Metrics); none when nil.
	Metrics *controller.Metrics
	// Recorder records Events about Nodes and Pods (component node-controller), and
	// EvictionRecorder the eviction Events (component taint-eviction-controller). New records
	// none when nil; Run then makes and runs its own.
	Recorder, EvictionRecorder *events.Recorder
}

// Controller is the Node lifecycle controller. Its keys are Node names: a Node, its Lease and
// the Pods bound to it all enqueue the Node's name.
type Controller struct {
	client   *client.Client
	nodes    informer.Lister[*corev1.Node]
	leases   informer.Lister[*coordinationv1.Lease]
	pods     informer.Lister[*corev1.Pod]
	ctrl     *controller.Controller
	opts     Options
	recorder *events.Recorder
	evictRec *events.Recorder
	now      func() time.Time

	mu sync.Mutex
	// health is what the controller last saw of each Node's heartbeats.
	health map[string]*health
	// missing is when the controller first found Pods bound to a Node that does not exist.
	missing map[string]time.Time
	// firstSeen is, by Node, when the controller first saw each NoExecute taint that has no
	// timeAdded ("key\x00value").
	firstSeen map[string]map[string]time.Time
	// pending holds, by Node, the Pods ("namespace/name") whose eviction is scheduled.
	pending map[string]map[string]bool
	// zones counts the ready Nodes of each zone.
	zones *zones
}

// New builds the controller on the Node, Lease and Pod informers of f. Start f, then call Run.
func New(c *client.Client, f *informer.Factory, opts Options) *Controller {
	if opts.NodeMonitorGracePeriod <= 0 {
		opts.NodeMonitorGracePeriod = DefaultNodeMonitorGracePeriod
	}
	if opts.NodeStartupGracePeriod <= 0 {
		opts.NodeStartupGracePeriod = DefaultNodeStartupGracePeriod
	}
	if opts.PodEvictionTimeout <= 0 {
		opts.PodEvictionTimeout = DefaultPodEvictionTimeout
	}
	if opts.PodGCQuarantine <= 0 {
		opts.PodGCQuarantine = DefaultPodGCQuarantine
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	nodes, leases, pods := f.For(scheme.Nodes), f.For(scheme.Leases), f.For(scheme.Pods)
	pods.AddIndexer(IndexNodeName, podNodeName)
	n := &Controller{
		client:   c,
		nodes:    informer.NewLister[*corev1.Node](nodes),
		leases:   informer.NewLister[*coordinationv1.Lease](leases),
		pods:     informer.NewLister[*corev1.Pod](pods),
		opts:     opts,
		recorder: opts.Recorder,
		evictRec: opts.EvictionRecorder,
		now:      time.Now,
		health:   map[string]*health{}, missing: map[string]time.Time{},
		firstSeen: map[string]map[string]time.Time{}, pending: map[string]map[string]bool{},
		zones: newZones(),
	}
	n.ctrl = controller.New(Name, n.reconcile, controller.Options{
		Workers: opts.Workers, Logger: opts.Logger, Metrics: opts.Metrics,
	})
	n.ctrl.Watch(nodes, nil)
	nodes.AddHandler(informer.HandlerFuncs{
		AddFunc: func(o scheme.Object) {
			n.zonesChanged(nodes, n.zones.set(o.GetMetadata().GetName(), o.(*corev1.Node), false))
		},
		UpdateFunc: func(_, o scheme.Object) {
			n.zonesChanged(nodes, n.zones.set(o.GetMetadata().GetName(), o.(*corev1.Node), false))
		},
		DeleteFunc: func(o scheme.Object) { n.zonesChanged(nodes, n.zones.set(o.GetMetadata().GetName(), nil, true)) },
	})
	n.ctrl.Watch(leases, nodeLease)
	n.ctrl.Watch(pods, boundNode)
	return n
}

// Run reconciles until ctx ends (see controller.Controller.Run).
func (n *Controller) Run(ctx context.Context) error { return n.ctrl.Run(ctx) }

// Run runs the controller through c until ctx ends, with its own informers and, when the
// recorders are nil, its own Event recorders (see controller.RunStandalone). Embedders that
// run several controllers share one informer.Factory and call New instead.
func Run(ctx context.Context, c *client.Client, opts Options) error {
	return controller.RunStandalone(ctx, c, opts.Logger, func(env controller.Env) controller.Runner {
		if opts.Recorder == nil {
			opts.Recorder = env.Recorder(Name)
		}
		if opts.EvictionRecorder == nil {
			opts.EvictionRecorder = env.Recorder(EvictionComponent)
		}
		return New(c, env.Factory, opts)
	})
}

// zonesChanged reconciles every Node when the zones' states changed, since what they allow
// changed (the first list is reconciled whole anyway). When the Nodes stop being all not
// ready, each gets a fresh grace period, as in Kubernetes, to report before it is judged.
func (n *Controller) zonesChanged(nodes *informer.Informer, ch zoneChange) {
	if !ch.changed || !nodes.HasSynced() {
		return
	}
	if ch.recovered {
		now := n.now()
		n.mu.Lock()
		for _, h := range n.health {
			h.probe = now
		}
		n.mu.Unlock()
	}
	for _, node := range n.nodes.List() {
		n.ctrl.Enqueue(node.GetMetadata().GetName())
	}
}

// podNodeName is the IndexFunc of IndexNodeName.
func podNodeName(obj scheme.Object) []string {
	if name := obj.(*corev1.Pod).GetSpec().GetNodeName(); name != "" {
		return []string{name}
	}
	return nil
}

// nodeLease maps a Node's Lease to the Node's key.
func nodeLease(obj scheme.Object) []string {
	md := obj.GetMetadata()
	if md.GetNamespace() != LeaseNamespace {
		return nil
	}
	return []string{md.GetName()}
}

// boundNode maps a Pod to the key of the Node it is bound to.
func boundNode(obj scheme.Object) []string { return podNodeName(obj) }

func (n *Controller) event(obj scheme.Object, eventType, reason, format string, args ...any) {
	if n.recorder != nil {
		n.recorder.Eventf(obj, eventType, reason, format, args...)
	}
}

func (n *Controller) evictionEvent(obj scheme.Object, reason, format string, args ...any) {
	if n.evictRec != nil {
		n.evictRec.Eventf(obj, events.Normal, reason, format, args...)
	}
}
