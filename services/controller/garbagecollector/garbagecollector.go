package garbagecollector

import (
	"context"
	"log/slog"
	"time"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/controller"
	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/scheme"
)

// Name is the controller's name in logs and metrics, and the component of its Events
// (Kubernetes' "garbage-collector-controller").
const Name = "garbage-collector-controller"

// Defaults of Options.
const (
	DefaultWorkers = 8
	// DefaultVirtualRecheck is how long to wait before looking again at an owner that a live
	// GET found but no informer has shown yet.
	DefaultVirtualRecheck = time.Second
)

// Options configure the garbage collector. The zero value works.
type Options struct {
	// Workers is how many uids are reconciled at once (DefaultWorkers when 0).
	Workers int
	// VirtualRecheck is how long to wait before looking again at an owner that exists but
	// that no informer has shown yet (DefaultVirtualRecheck when 0).
	VirtualRecheck time.Duration
	// Logger receives the controller's logs; none when nil.
	Logger *slog.Logger
	// Metrics receives the controller's metrics (see controller.Metrics); none when nil.
	Metrics *controller.Metrics
}

// GarbageCollector is the garbage collector.
type GarbageCollector struct {
	client         *client.Client
	graph          *graph
	ctrl           *controller.Controller
	virtualRecheck time.Duration
}

// Resources are the resources whose objects the garbage collector follows: every resource of
// the scheme but Events.
func Resources() []*scheme.Resource {
	var out []*scheme.Resource
	for _, r := range scheme.All {
		if r != scheme.Events {
			out = append(out, r)
		}
	}
	return out
}

// New builds the garbage collector on the informers of f (one per resource of Resources).
// Start f, then call Run.
func New(c *client.Client, f *informer.Factory, opts Options) *GarbageCollector {
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.VirtualRecheck <= 0 {
		opts.VirtualRecheck = DefaultVirtualRecheck
	}
	gc := &GarbageCollector{client: c, virtualRecheck: opts.VirtualRecheck}
	gc.ctrl = controller.New(Name, gc.reconcile, controller.Options{
		Workers: opts.Workers, Logger: opts.Logger, Metrics: opts.Metrics,
	})
	gc.graph = newGraph(gc.ctrl.Enqueue)
	for _, r := range Resources() {
		inf := f.For(r)
		inf.AddHandler(informer.HandlerFuncs{
			AddFunc:    func(obj scheme.Object) { gc.graph.observe(r, obj) },
			UpdateFunc: func(_, obj scheme.Object) { gc.graph.observe(r, obj) },
			DeleteFunc: gc.graph.forget,
		})
		// The handler above feeds the queue; Watch, with no keys of its own, makes Run wait
		// for this informer's first sync.
		gc.ctrl.Watch(inf, controller.NoKeys)
	}
	return gc
}

// Run waits until every informer has synced (the graph is never acted on from a partial
// view), then reconciles until ctx ends (see controller.Controller.Run).
func (gc *GarbageCollector) Run(ctx context.Context) error { return gc.ctrl.Run(ctx) }

// Run runs the garbage collector through c until ctx ends, with informers of its own (see
// controller.RunStandalone). Embedders that run several controllers share one
// informer.Factory and call New instead.
func Run(ctx context.Context, c *client.Client, opts Options) error {
	return controller.RunStandalone(ctx, c, opts.Logger, func(env controller.Env) controller.Runner {
		return New(c, env.Factory, opts)
	})
}
