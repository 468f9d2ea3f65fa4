package podworker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/agent/prober"
	"github.com/berth-dev/berth/agent/runtime"
	"github.com/berth-dev/berth/agent/status"
	"github.com/berth-dev/berth/agent/volume"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Defaults of Config's periods.
const (
	DefaultRelistPeriod = time.Second
	DefaultResyncPeriod = 10 * time.Second
	// DefaultClusterDomain is the DNS domain of Services.
	DefaultClusterDomain = "cluster.local"
)

// Sink receives what the workers report; the agent writes it to the apiserver. Neither method
// may block for long: they are called from the workers.
type Sink interface {
	// SetStatus hands over a Pod's status whenever it changed.
	SetStatus(pod *corev1.Pod, status *corev1.PodStatus)
	// Finish is called once a Pod with a deletionTimestamp is torn down (its containers,
	// sandbox and volumes are gone, its final status was handed to SetStatus): the agent
	// finishes the deletion in the apiserver.
	Finish(pod *corev1.Pod)
}

// Config configures a Manager.
type Config struct {
	// Runtime runs the containers. Required.
	Runtime runtime.Runtime
	// NodeName is the Node the agent runs as. Required.
	NodeName string
	// RootDir holds the Pods' volumes (<RootDir>/pods/<uid>). Required.
	RootDir string
	// Lookup reads the ConfigMaps and Secrets of env and volumes.
	Lookup volume.Lookup
	// Recorder records Events about Pods (nil: none).
	Recorder status.Recorder
	// Logger logs (nil: discard).
	Logger *slog.Logger
	// Sink receives statuses and finished deletions. Required.
	Sink Sink
	// HostIP is the Node's address, reported as the Pods' hostIP.
	HostIP string
	// ClusterDNS are the nameservers of Pods with dnsPolicy ClusterFirst; when empty such Pods
	// get the Node's DNS, as dnsPolicy Default. ClusterDomain is the Services' domain
	// (DefaultClusterDomain when empty).
	ClusterDNS    []string
	ClusterDomain string
	// RelistPeriod is how often the runtime is listed to notice containers that exited;
	// ResyncPeriod how often every Pod is synced anyway (ConfigMap and Secret volumes are
	// refreshed then). Zero: the defaults.
	RelistPeriod, ResyncPeriod time.Duration
}

// Manager runs one worker per Pod bound to the Node.
type Manager struct {
	cfg     Config
	log     *slog.Logger
	rt      runtime.Runtime
	cache   *podCache
	volumes *volume.Manager
	prober  *prober.Prober

	infoMu sync.Mutex
	info   *runtime.NodeInfo

	mu       sync.Mutex
	ctx      context.Context // set while Run runs
	wg       sync.WaitGroup
	workers  map[string]*worker
	finished map[string]time.Time // uids torn down, and when Finish was last called for them
	adopted  bool
}

// New returns a Manager for cfg.
func New(cfg Config) (*Manager, error) {
	switch {
	case cfg.Runtime == nil:
		return nil, errors.New("podworker: no runtime")
	case cfg.NodeName == "":
		return nil, errors.New("podworker: no node name")
	case cfg.RootDir == "":
		return nil, errors.New("podworker: no root directory")
	case cfg.Sink == nil:
		return nil, errors.New("podworker: no sink")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Recorder == nil {
		cfg.Recorder = nopRecorder{}
	}
	if cfg.RelistPeriod <= 0 {
		cfg.RelistPeriod = DefaultRelistPeriod
	}
	if cfg.ResyncPeriod <= 0 {
		cfg.ResyncPeriod = DefaultResyncPeriod
	}
	if cfg.ClusterDomain == "" {
		cfg.ClusterDomain = DefaultClusterDomain
	}
	m := &Manager{
		cfg: cfg, log: cfg.Logger, rt: cfg.Runtime,
		volumes:  volume.New(cfg.RootDir, cfg.Lookup, cfg.Logger),
		prober:   prober.New(cfg.Runtime),
		workers:  map[string]*worker{},
		finished: map[string]time.Time{},
	}
	m.cache = newPodCache(cfg.Runtime, cfg.NodeName, m.poke)
	return m, nil
}

type nopRecorder struct{}

func (nopRecorder) Eventf(scheme.Object, string, string, string, ...any) {}

// finishRetry is how long after a Finish an Update of the same deleted Pod calls Finish
// again (the agent's delete may have failed).
const finishRetry = 5 * time.Second

// finishedTTL is how long torn-down uids are remembered.
const finishedTTL = 10 * time.Minute

// Update hands over the latest version of a Pod bound to the Node, one being deleted
// included. It does not block.
func (m *Manager) Update(pod *corev1.Pod) {
	uid := pod.GetMetadata().GetUid()
	if uid == "" {
		return
	}
	m.mu.Lock()
	if at, done := m.finished[uid]; done {
		again := pod.GetMetadata().GetDeletionTimestamp() != nil && time.Since(at) > finishRetry
		if again {
			m.finished[uid] = time.Now()
		}
		m.mu.Unlock()
		if again {
			m.cfg.Sink.Finish(pod)
		}
		return
	}
	w := m.workers[uid]
	if w == nil {
		w = newWorker(m, uid)
		m.workers[uid] = w
		m.startLocked(w)
	}
	m.mu.Unlock()
	w.update(pod)
}

// Remove tells that a Pod is gone from the apiserver (or bound elsewhere): its containers are
// stopped (with its grace period) and removed, with its volumes. It does not block.
func (m *Manager) Remove(pod *corev1.Pod) {
	uid := pod.GetMetadata().GetUid()
	m.mu.Lock()
	w := m.workers[uid]
	m.mu.Unlock()
	if w != nil {
		w.remove()
	}
	// Without a worker there is nothing of the Pod, or it is an orphan the housekeeping
	// removes.
}

// startLocked starts w's goroutine if Run runs.
func (m *Manager) startLocked(w *worker) {
	if m.ctx == nil || w.started {
		return
	}
	w.started = true
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		w.run(m.ctx)
	}()
}

// done is called by a worker that tore its Pod down.
func (m *Manager) done(w *worker, finished bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.workers[w.uid] == w {
		delete(m.workers, w.uid)
	}
	if finished {
		m.finished[w.uid] = time.Now()
	}
}

// poke wakes the worker of uid, if there is one.
func (m *Manager) poke(uid string) {
	m.mu.Lock()
	w := m.workers[uid]
	m.mu.Unlock()
	if w != nil {
		w.poke()
	}
}

// Adopt is called once, after the first list of the Pods bound to the Node and before any
// Update: the running containers of bound Pods are adopted (their workers take them over as
// they are), and every container, sandbox and volume directory of a Pod not bound here is
// removed.
func (m *Manager) Adopt(ctx context.Context, bound []*corev1.Pod) error {
	keep := map[string]bool{}
	for _, p := range bound {
		keep[p.GetMetadata().GetUid()] = true
	}
	pods, err := m.cache.refresh(ctx)
	if err != nil {
		return fmt.Errorf("adopt: %w", err)
	}
	adopted := 0
	for uid, rec := range pods {
		if keep[uid] {
			adopted++
			continue
		}
		if err := m.removeOrphan(ctx, uid, rec); err != nil {
			return fmt.Errorf("adopt: %w", err)
		}
	}
	if err := m.removeOrphanDirs(keep); err != nil {
		return fmt.Errorf("adopt: %w", err)
	}
	m.log.Info("adopted running pods", "node", m.cfg.NodeName, "adopted", adopted, "removed", len(pods)-adopted)
	for _, p := range bound {
		m.Update(p)
	}
	m.mu.Lock()
	m.adopted = true
	m.mu.Unlock()
	return nil
}

// orphanGrace is the stop timeout of containers of Pods that are gone.
const orphanGrace = 2 * time.Second

// removeOrphan stops and removes everything of a Pod the Node no longer runs.
func (m *Manager) removeOrphan(ctx context.Context, uid string, rec podRecord) error {
	var errs []error
	for _, c := range rec.Containers {
		if c.State == runtime.ContainerRunning {
			if err := m.rt.StopContainer(ctx, c.ID, orphanGrace); err != nil && !errors.Is(err, runtime.ErrNotFound) {
				errs = append(errs, fmt.Errorf("stop container %s of pod %s: %w", c.ID, uid, err))
				continue
			}
		}
		if err := m.rt.RemoveContainer(ctx, c.ID); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			errs = append(errs, fmt.Errorf("remove container %s of pod %s: %w", c.ID, uid, err))
		}
	}
	for _, s := range rec.Sandboxes {
		if err := m.rt.StopSandbox(ctx, s.ID, 0); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			errs = append(errs, fmt.Errorf("stop sandbox %s of pod %s: %w", s.ID, uid, err))
			continue
		}
		if err := m.rt.RemoveSandbox(ctx, s.ID); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			errs = append(errs, fmt.Errorf("remove sandbox %s of pod %s: %w", s.ID, uid, err))
		}
	}
	m.cache.bump()
	if err := m.volumes.Cleanup(uid); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		m.log.Info("removed a pod that no longer belongs to the node", "uid", uid,
			"containers", len(rec.Containers), "sandboxes", len(rec.Sandboxes))
	}
	return errors.Join(errs...)
}

// removeOrphanDirs removes the volume directories of Pods not in keep and without a worker.
func (m *Manager) removeOrphanDirs(keep map[string]bool) error {
	uids, err := m.volumes.PodUIDs()
	if err != nil {
		return err
	}
	var errs []error
	for _, uid := range uids {
		m.mu.Lock()
		_, busy := m.workers[uid]
		m.mu.Unlock()
		if keep[uid] || busy {
			continue
		}
		errs = append(errs, m.volumes.Cleanup(uid))
	}
	return errors.Join(errs...)
}

// Run runs the workers and the runtime's relist until ctx ends; the containers keep running
// (a restarted agent adopts them).
func (m *Manager) Run(ctx context.Context) {
	m.mu.Lock()
	m.ctx = ctx
	for _, w := range m.workers {
		m.startLocked(w)
	}
	m.mu.Unlock()

	t := time.NewTicker(m.cfg.RelistPeriod)
	defer t.Stop()
	var lastHousekeeping time.Time
	for {
		select {
		case <-ctx.Done():
			m.wg.Wait()
			return
		case <-t.C:
		}
		m.mu.Lock()
		n, adopted := len(m.workers), m.adopted
		m.mu.Unlock()
		housekeeping := adopted && time.Since(lastHousekeeping) >= housekeepingPeriod
		if n == 0 && !housekeeping {
			continue // nothing to watch: spare the runtime (hollow Nodes have many idle agents)
		}
		pods, err := m.cache.refresh(ctx)
		if err != nil {
			if ctx.Err() == nil {
				m.log.Warn("relist the runtime", "err", err)
			}
			continue
		}
		if housekeeping {
			lastHousekeeping = time.Now()
			m.housekeeping(ctx, pods)
		}
	}
}

// housekeepingPeriod is how often orphans are looked for once adopted.
const housekeepingPeriod = 30 * time.Second

// housekeeping removes what belongs to no worker, and forgets old torn-down uids.
func (m *Manager) housekeeping(ctx context.Context, pods map[string]podRecord) {
	m.mu.Lock()
	for uid, at := range m.finished {
		if time.Since(at) > finishedTTL {
			delete(m.finished, uid)
		}
	}
	var orphans []string
	for uid := range pods {
		if _, ok := m.workers[uid]; !ok {
			orphans = append(orphans, uid)
		}
	}
	m.mu.Unlock()
	for _, uid := range orphans {
		if err := m.removeOrphan(ctx, uid, pods[uid]); err != nil {
			m.log.Warn("remove orphaned pod", "uid", uid, "err", err)
		}
	}
	if err := m.removeOrphanDirs(nil); err != nil {
		m.log.Warn("remove orphaned pod directories", "err", err)
	}
}

// nodeInfo is the runtime's Info, read once.
func (m *Manager) nodeInfo(ctx context.Context) runtime.NodeInfo {
	m.infoMu.Lock()
	defer m.infoMu.Unlock()
	if m.info != nil {
		return *m.info
	}
	info, err := m.rt.Info(ctx)
	if err != nil {
		m.log.Warn("read the runtime's node info", "err", err)
		return runtime.NodeInfo{}
	}
	m.info = &info
	return info
}

// runtimeName prefixes container IDs in statuses: "docker" for "docker://20.10.24".
func (m *Manager) runtimeName(ctx context.Context) string {
	name, _, ok := strings.Cut(m.nodeInfo(ctx).RuntimeVersion, "://")
	if !ok || name == "" {
		return "docker"
	}
	return name
}
