package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/defaults"
	"github.com/berth-dev/berth/pkg/events"
	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/leaderelection"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	"github.com/berth-dev/berth/services/scheduler/cache"
	"github.com/berth-dev/berth/services/scheduler/framework"
	"github.com/berth-dev/berth/services/scheduler/plugins"
	"github.com/berth-dev/berth/services/scheduler/queue"
)

// DefaultBindConcurrency bounds the binding calls in flight.
const DefaultBindConcurrency = 64

// statusConcurrency bounds the status updates of unschedulable Pods in flight.
const statusConcurrency = 16

// podFieldSelector leaves out finished Pods, which hold no resources (as kube-scheduler).
const podFieldSelector = "status.phase!=Succeeded,status.phase!=Failed"

// Config configures a scheduler.
type Config struct {
	// Client talks to the apiserver.
	Client *client.Client
	// SchedulerName is the spec.schedulerName of the Pods this scheduler places
	// (default-scheduler when empty).
	SchedulerName string
	// ConfigFile is a framework.Config in YAML; empty runs the default plugins.
	ConfigFile string
	Logger     *slog.Logger
	// Metrics registers the scheduler's metrics; optional.
	Metrics prometheus.Registerer
	// BindConcurrency bounds the binding calls in flight (DefaultBindConcurrency when 0).
	BindConcurrency int
	// Identity names this instance in Events (the hostname when empty).
	Identity string
	// NoLeaderElection schedules at once, without electing a leader: only safe when no other
	// scheduler of the same name runs against the same apiserver.
	NoLeaderElection bool
	// LeaderElection tunes the election among the schedulers of the same name (identity,
	// lease duration, renew deadline, retry period; the Lease's namespace and name, by
	// default kube-system and LeaseName); Run sets its client, logger, metrics, recorder and
	// callbacks.
	LeaderElection leaderelection.Config
	// Queue tunes the scheduling queue (tests shorten its backoffs).
	Queue queue.Options
}

// LoadConfig reads and validates a scheduler configuration file; "" is the default
// configuration. Errors name the bad entry.
func LoadConfig(file string) (framework.Config, error) {
	def := plugins.DefaultConfig()
	if file == "" {
		return def, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return framework.Config{}, fmt.Errorf("read scheduler configuration: %w", err)
	}
	cfg, err := framework.ParseConfig(data, def)
	if err != nil {
		return framework.Config{}, fmt.Errorf("%s: %w", file, err)
	}
	if err := cfg.Validate(plugins.Registry()); err != nil {
		return framework.Config{}, fmt.Errorf("%s: %w", file, err)
	}
	return cfg, nil
}

// Scheduler places Pods on Nodes.
type Scheduler struct {
	cfg     Config
	log     *slog.Logger
	fwk     *framework.Framework
	pods    corev1.PodServiceClient
	rec     *events.Recorder
	metrics *metrics
}

// New builds a scheduler: it reads the configuration and registers the metrics, so a bad
// configuration fails here, before anything runs.
func New(cfg Config) (*Scheduler, error) {
	if cfg.Client == nil {
		return nil, errors.New("scheduler: no client")
	}
	if cfg.SchedulerName == "" {
		cfg.SchedulerName = defaults.DefaultSchedulerName
	}
	if cfg.BindConcurrency <= 0 {
		cfg.BindConcurrency = DefaultBindConcurrency
	}
	if cfg.Identity == "" {
		cfg.Identity, _ = os.Hostname()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("scheduler", cfg.SchedulerName)
	fc, err := LoadConfig(cfg.ConfigFile)
	if err != nil {
		return nil, err
	}
	fwk, err := framework.New(fc, plugins.Registry())
	if err != nil {
		return nil, err
	}
	s := &Scheduler{
		cfg: cfg, log: log, fwk: fwk,
		pods:    corev1.NewPodServiceClient(cfg.Client.Conn()),
		rec:     events.New(corev1.NewEventServiceClient(cfg.Client.Conn()), cfg.SchedulerName, cfg.Identity, log),
		metrics: newMetrics(cfg.SchedulerName),
	}
	if cfg.Metrics != nil {
		if err := cfg.Metrics.Register(s.metrics); err != nil {
			return nil, fmt.Errorf("register scheduler metrics: %w", err)
		}
	}
	return s, nil
}

// Run schedules Pods until ctx ends. A bad configuration fails at once.
func Run(ctx context.Context, cfg Config) error {
	s, err := New(cfg)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

// Run schedules until ctx ends — unless cfg.NoLeaderElection, only while this candidate
// leads, afresh each term — and returns once the bindings in flight have finished.
func (s *Scheduler) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	recDone := make(chan struct{})
	go func() { defer close(recDone); s.rec.Run(ctx) }()
	defer func() { cancel(); <-recDone }()
	if s.cfg.NoLeaderElection {
		s.lead(ctx)
		return nil
	}
	le := s.cfg.LeaderElection
	if le.Name == "" {
		le.Name = LeaseName(s.cfg.SchedulerName)
	}
	le.Client, le.Logger, le.Metrics, le.Recorder = s.cfg.Client, s.log, s.cfg.Metrics, s.rec
	le.OnStartedLeading = s.lead
	return leaderelection.Run(ctx, le)
}

// LeaseName is the Lease (in kube-system) through which the schedulers named schedulerName
// elect their leader: kube-scheduler for default-scheduler, as in Kubernetes, and the
// scheduler's own name for the others.
func LeaseName(schedulerName string) string {
	if schedulerName == defaults.DefaultSchedulerName || schedulerName == "" {
		return "kube-scheduler"
	}
	return schedulerName
}

// lead schedules with fresh state until ctx ends.
func (s *Scheduler) lead(ctx context.Context) {
	t := s.newTerm()
	s.metrics.queue.Store(t.queue)
	t.run(ctx)
}

// term is one stretch of scheduling (one leadership, without leader election the whole
// run): its own informers, cache and queue, built afresh so that nothing survives from a
// time another scheduler may have been placing Pods.
type term struct {
	*Scheduler
	cache *cache.Cache
	queue *queue.Queue

	podInformer, nodeInformer *informer.Informer
	podLister                 informer.Lister[*corev1.Pod]

	// Owned by the scheduling loop.
	snap   *framework.Snapshot
	cursor framework.Cursor

	bindSem, statusSem chan struct{}
	wg                 sync.WaitGroup
}

func (s *Scheduler) newTerm() *term {
	t := &term{
		Scheduler: s,
		cache:     cache.New(),
		queue:     queue.New(s.cfg.Queue),
		snap:      &framework.Snapshot{},
		cursor:    framework.Cursor{Last: -1},
		bindSem:   make(chan struct{}, s.cfg.BindConcurrency),
		statusSem: make(chan struct{}, statusConcurrency),
	}
	t.podInformer = informer.New(s.cfg.Client, scheme.Pods, informer.Options{FieldSelector: podFieldSelector, Logger: s.log})
	t.nodeInformer = informer.New(s.cfg.Client, scheme.Nodes, informer.Options{Logger: s.log})
	t.podLister = informer.NewLister[*corev1.Pod](t.podInformer)
	t.podInformer.AddHandler(informer.HandlerFuncs{AddFunc: t.onPodAdd, UpdateFunc: t.onPodUpdate, DeleteFunc: t.onPodDelete})
	t.nodeInformer.AddHandler(informer.HandlerFuncs{AddFunc: t.onNodeAdd, UpdateFunc: t.onNodeUpdate, DeleteFunc: t.onNodeDelete})
	return t
}

// run watches Pods and Nodes and schedules until ctx ends, then waits for the bindings in
// flight.
func (t *term) run(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var bg sync.WaitGroup
	start := func(f func()) {
		bg.Add(1)
		go func() { defer bg.Done(); f() }()
	}
	start(func() { _ = t.podInformer.Run(ctx) })
	start(func() { _ = t.nodeInformer.Run(ctx) })
	start(func() { t.queue.Run(ctx) })
	defer bg.Wait()
	defer cancel()
	if !informer.WaitForSync(ctx, t.podInformer, t.nodeInformer) {
		return
	}
	nodes, pods, _ := t.cache.Counts()
	t.log.Info("scheduling", "nodes", nodes, "boundPods", pods, "filters", t.fwk.FilterPlugins(), "scores", t.fwk.ScorePlugins())
	for ctx.Err() == nil {
		t.scheduleOne(ctx)
	}
	t.wg.Wait()
}

// scheduleOne takes one Pod from the queue and tries to place it.
func (t *term) scheduleOne(ctx context.Context) {
	qp, err := t.queue.Pop(ctx)
	if err != nil {
		return
	}
	pi, ok := t.current(qp.Info)
	if !ok {
		t.queue.Done(qp.Info.Key)
		return
	}
	qp.Info = pi
	start := time.Now()
	t.cache.UpdateSnapshot(t.snap)
	res, err := t.fwk.Schedule(t.snap, pi, t.cursor)
	t.metrics.algorithm.Observe(time.Since(start).Seconds())
	if err != nil {
		var fe *framework.FitError
		if errors.As(err, &fe) || errors.Is(err, framework.ErrNoNodesAvailable) {
			t.metrics.attempt(resultUnschedulable, start)
			t.queue.Requeue(qp, true)
			t.log.Debug("pod unschedulable", "pod", pi.Key, "reason", err)
			t.failed(ctx, pi, reasonUnschedulable, err.Error())
			return
		}
		t.metrics.attempt(resultError, start)
		t.queue.Requeue(qp, false)
		t.log.Warn("scheduling failed", "pod", pi.Key, "err", err)
		t.failed(ctx, pi, reasonSchedulerError, err.Error())
		return
	}
	t.cursor = res.Next
	assumed := pi.WithNode(res.Node)
	if err := t.cache.AssumePod(assumed); err != nil {
		t.metrics.attempt(resultError, start)
		t.queue.Requeue(qp, false)
		t.log.Warn("assume failed", "pod", pi.Key, "err", err)
		return
	}
	t.queue.Done(pi.Key)
	t.bind(ctx, qp, assumed, start)
}

// current returns the informer's latest version of a queued Pod, or false when the Pod is
// gone, bound, being deleted, or assumed already.
func (t *term) current(pi *framework.PodInfo) (*framework.PodInfo, bool) {
	md := pi.Pod.GetMetadata()
	cur, ok := t.podLister.Get(md.GetNamespace(), md.GetName())
	if !ok || cur.GetMetadata().GetUid() != pi.UID || cur.GetSpec().GetNodeName() != "" ||
		cur.GetMetadata().GetDeletionTimestamp() != nil || t.cache.IsAssumed(pi.UID) {
		return nil, false
	}
	if cur.GetMetadata().GetResourceVersion() != md.GetResourceVersion() {
		return framework.NewPodInfo(cur), true
	}
	return pi, true
}

// async runs f on its own goroutine once one of sem's slots is free; it waits for a slot,
// so a slow apiserver slows the loop instead of piling up goroutines.
func (t *term) async(ctx context.Context, sem chan struct{}, f func(ctx context.Context)) bool {
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	t.wg.Add(1)
	go func() {
		defer func() { <-sem; t.wg.Done() }()
		f(ctx)
	}()
	return true
}

// DefaultSchedulerName is the scheduler of Pods that name none.
const DefaultSchedulerName = defaults.DefaultSchedulerName
