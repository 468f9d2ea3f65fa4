package replicaset

import (
	"context"
	"log/slog"
	"time"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/controller"
	"github.com/berth-dev/berth/pkg/events"
	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Names of the two controllers in logs and metrics (Kubernetes' controller names), and the
// components their Events name as their source (Kubernetes' event sources).
const (
	ReplicaSetName                 = "replicaset-controller"
	ReplicationControllerName      = "replicationcontroller"
	ReplicaSetComponent            = "replicaset-controller"
	ReplicationControllerComponent = "replication-controller"
)

// Defaults of Options, Kubernetes' own.
const (
	DefaultWorkers       = 5
	DefaultBurstReplicas = 500
)

// slowStartInitialBatch is the size of the first batch of Pod creates.
const slowStartInitialBatch = 1

// Options configure a ReplicaSet or ReplicationController controller. The zero value is a
// ReplicaSet controller with Kubernetes' defaults.
type Options struct {
	// Resource is what the controller reconciles: scheme.ReplicaSets (when nil) or
	// scheme.ReplicationControllers.
	Resource *scheme.Resource
	// Workers is how many owners are reconciled at once (DefaultWorkers when 0).
	Workers int
	// BurstReplicas caps the Pods created or deleted in one reconcile (DefaultBurstReplicas
	// when 0).
	BurstReplicas int
	// Logger receives the controller's logs; none when nil.
	Logger *slog.Logger
	// Metrics receives the controller's metrics (see controller.Metrics); none when nil.
	Metrics *controller.Metrics
	// Recorder records Events about the owners. New records none when nil; Run then makes and
	// runs its own.
	Recorder *events.Recorder
}

// Controller is the ReplicaSet controller, or the ReplicationController manager.
type Controller struct {
	kind     *kind
	client   *client.Client
	owners   *informer.Informer
	pods     informer.Lister[*corev1.Pod]
	ctrl     *controller.Controller
	recorder *events.Recorder
	burst    int
	expect   *expectations
	now      func() time.Time
}

// New builds the controller of opts.Resource on the Pod informer and the owners' informer of
// f. Start f, then call Run. It panics when opts.Resource is neither ReplicaSets nor
// ReplicationControllers, a programming error.
func New(c *client.Client, f *informer.Factory, opts Options) *Controller {
	if opts.Resource == nil {
		opts.Resource = scheme.ReplicaSets
	}
	k := kindOf(opts.Resource)
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.BurstReplicas <= 0 {
		opts.BurstReplicas = DefaultBurstReplicas
	}
	name := ReplicaSetName
	if opts.Resource == scheme.ReplicationControllers {
		name = ReplicationControllerName
	}
	owners := f.For(opts.Resource)
	pods := f.For(scheme.Pods)
	pods.AddIndexer(informer.IndexOwnerUID, informer.OwnerUIDIndex)
	pods.AddIndexer(indexOrphans, orphanIndex)
	r := &Controller{
		kind: k, client: c, owners: owners,
		pods:     informer.NewLister[*corev1.Pod](pods),
		recorder: opts.Recorder,
		burst:    opts.BurstReplicas,
		expect:   newExpectations(time.Now),
		now:      time.Now,
	}
	r.ctrl = controller.New(name, r.reconcile, controller.Options{
		Workers: opts.Workers, Logger: opts.Logger, Metrics: opts.Metrics,
	})
	r.ctrl.Watch(owners, nil)
	owners.AddHandler(informer.HandlerFuncs{
		// What a deleted owner expected will never be seen: a new owner of the same name must
		// not wait for it.
		UpdateFunc: func(old, obj scheme.Object) {
			if old.GetMetadata().GetUid() != obj.GetMetadata().GetUid() {
				r.expect.forget(informer.KeyOf(old))
			}
		},
		DeleteFunc: func(obj scheme.Object) { r.expect.forget(informer.KeyOf(obj)) },
	})
	r.ctrl.Watch(pods, controller.NoKeys) // waits for the Pod cache; podHandler enqueues
	pods.AddHandler(podHandler{r})
	return r
}

// Run reconciles until ctx ends (see controller.Controller.Run).
func (r *Controller) Run(ctx context.Context) error { return r.ctrl.Run(ctx) }

// Run runs the controller of opts.Resource through c until ctx ends, with its own informers
// and, when opts.Recorder is nil, its own Event recorder (see controller.RunStandalone).
// Embedders that run several controllers share one informer.Factory and call New instead.
func Run(ctx context.Context, c *client.Client, opts Options) error {
	return controller.RunStandalone(ctx, c, opts.Logger, func(env controller.Env) controller.Runner {
		if opts.Recorder == nil {
			component := ReplicaSetComponent
			if opts.Resource == scheme.ReplicationControllers {
				component = ReplicationControllerComponent
			}
			opts.Recorder = env.Recorder(component)
		}
		return New(c, env.Factory, opts)
	})
}

func (r *Controller) event(obj scheme.Object, eventType, reason, format string, args ...any) {
	if r.recorder != nil {
		r.recorder.Eventf(obj, eventType, reason, format, args...)
	}
}
