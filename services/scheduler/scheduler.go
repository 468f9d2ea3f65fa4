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
	cache   *cache.Cache
	queue   *queue.Queue
	pods    corev1.PodServiceClient
	rec     *events.Recorder
	metrics *metrics

	podInformer, nodeInformer *informer.Informer
	podLister                 informer.Lister[*corev1.Pod]

	// Owned by the scheduling loop.
	snap   *framework.Snapshot
	cursor framework.Cursor

	bindSem, statusSem chan struct{}
	wg                 sync.WaitGroup
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
		cache:     cache.New(),
		queue:     queue.New(cfg.Queue),
		pods:      corev1.NewPodServiceClient(cfg.Client.Conn()),
		rec:       events.New(corev1.NewEventServiceClient(cfg.Client.Conn()), cfg.SchedulerName, cfg.Identity, log),
		snap:      &framework.Snapshot{},
		cursor:    framework.Cursor{Last: -1},
		bindSem:   make(chan struct{}, cfg.BindConcurrency),
		statusSem: make(chan struct{}, statusConcurrency),
	}
	s.metrics = newMetrics(cfg.SchedulerName, s.queue)
	if cfg.Metrics != nil {
		if err := cfg.Metrics.Register(s.metrics); err != nil {
			return nil, fmt.Errorf("register scheduler metrics: %w", err)
		}
	}
	s.podInformer = informer.New(cfg.Client, scheme.Pods, informer.Options{FieldSelector: podFieldSelector, Logger: log})
	s.nodeInformer = informer.New(cfg.Client, scheme.Nodes, informer.Options{Logger: log})
	s.podLister = informer.NewLister[*corev1.Pod](s.podInformer)
	s.podInformer.AddHandler(informer.HandlerFuncs{AddFunc: s.onPodAdd, UpdateFunc: s.onPodUpdate, DeleteFunc: s.onPodDelete})
	s.nodeInformer.AddHandler(informer.HandlerFuncs{AddFunc: s.onNodeAdd, UpdateFunc: s.onNodeUpdate, DeleteFunc: s.onNodeDelete})
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

// Run watches Pods and Nodes and schedules until ctx ends; it returns once the bindings in
// flight have finished.
func (s *Scheduler) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var bg sync.WaitGroup
	start := func(f func()) {
		bg.Add(1)
		go func() { defer bg.Done(); f() }()
	}
	start(func() { s.rec.Run(ctx) })
	start(func() { _ = s.podInformer.Run(ctx) })
	start(func() { _ = s.nodeInformer.Run(ctx) })
	start(func() { s.queue.Run(ctx) })
	defer bg.Wait()
	defer cancel()
	if !informer.WaitForSync(ctx, s.podInformer, s.nodeInformer) {
		return nil
	}
	nodes, pods, _ := s.cache.Counts()
	s.log.Info("scheduler started", "nodes", nodes, "boundPods", pods, "filters", s.fwk.FilterPlugins(), "scores", s.fwk.ScorePlugins())
	for ctx.Err() == nil {
		s.scheduleOne(ctx)
	}
	s.wg.Wait()
	return nil
}

// scheduleOne takes one Pod from the queue and tries to place it.
func (s *Scheduler) scheduleOne(ctx context.Context) {
	qp, err := s.queue.Pop(ctx)
	if err != nil {
		return
	}
	pi, ok := s.current(qp.Info)
	if !ok {
		s.queue.Done(qp.Info.Key)
		return
	}
	qp.Info = pi
	start := time.Now()
	s.cache.UpdateSnapshot(s.snap)
	res, err := s.fwk.Schedule(s.snap, pi, s.cursor)
	s.metrics.algorithm.Observe(time.Since(start).Seconds())
	if err != nil {
		var fe *framework.FitError
		if errors.As(err, &fe) || errors.Is(err, framework.ErrNoNodesAvailable) {
			s.metrics.attempt(resultUnschedulable, start)
			s.queue.Requeue(qp, true)
			s.log.Debug("pod unschedulable", "pod", pi.Key, "reason", err)
			s.failed(ctx, pi, reasonUnschedulable, err.Error())
			return
		}
		s.metrics.attempt(resultError, start)
		s.queue.Requeue(qp, false)
		s.log.Warn("scheduling failed", "pod", pi.Key, "err", err)
		s.failed(ctx, pi, reasonSchedulerError, err.Error())
		return
	}
	s.cursor = res.Next
	assumed := pi.WithNode(res.Node)
	if err := s.cache.AssumePod(assumed); err != nil {
		s.metrics.attempt(resultError, start)
		s.queue.Requeue(qp, false)
		s.log.Warn("assume failed", "pod", pi.Key, "err", err)
		return
	}
	s.queue.Done(pi.Key)
	s.bind(ctx, qp, assumed, start)
}

// current returns the informer's latest version of a queued Pod, or false when the Pod is
// gone, bound, being deleted, or assumed already.
func (s *Scheduler) current(pi *framework.PodInfo) (*framework.PodInfo, bool) {
	md := pi.Pod.GetMetadata()
	cur, ok := s.podLister.Get(md.GetNamespace(), md.GetName())
	if !ok || cur.GetMetadata().GetUid() != pi.UID || cur.GetSpec().GetNodeName() != "" ||
		cur.GetMetadata().GetDeletionTimestamp() != nil || s.cache.IsAssumed(pi.UID) {
		return nil, false
	}
	if cur.GetMetadata().GetResourceVersion() != md.GetResourceVersion() {
		return framework.NewPodInfo(cur), true
	}
	return pi, true
}

// async runs f on its own goroutine once one of sem's slots is free; it waits for a slot,
// so a slow apiserver slows the loop instead of piling up goroutines.
func (s *Scheduler) async(ctx context.Context, sem chan struct{}, f func(ctx context.Context)) bool {
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	s.wg.Add(1)
	go func() {
		defer func() { <-sem; s.wg.Done() }()
		f(ctx)
	}()
	return true
}
