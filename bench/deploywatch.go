package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// The deployment benchmark's machinery: the bin/berth processes it starts, their CPU and
// memory from /proc, and the watches that time its phases.

// waitHTTPReady polls url until it answers 200.
func waitHTTPReady(ctx context.Context, url string, p *berthProc) error {
	deadline := time.Now().Add(serverReadyTimeout)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if ended, err := p.exited(); ended {
			return fmt.Errorf("berth %s exited (%v); log:\n%s", p.name, err, p.log.tail(30))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s; log:\n%s", url, serverReadyTimeout, p.log.tail(30))
		}
		if !sleepCtx(ctx, 100*time.Millisecond) {
			return ctx.Err()
		}
	}
}

// berthProc is a bin/berth process the benchmark started.
type berthProc struct {
	name string
	// httpAddr serves its /metrics.
	httpAddr string
	cmd      *exec.Cmd
	log      *tailBuffer
	done     chan struct{}
	err      error
}

// startBerthProc runs bin/berth with args; name is its role, for messages, and httpAddr the
// address of its /metrics (which args must give it).
func startBerthProc(ctx context.Context, name, httpAddr string, args ...string) (*berthProc, error) {
	cmd := exec.CommandContext(ctx, berthBinary, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = agentShutdownTimeout
	log := &tailBuffer{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s %s: %w", berthBinary, name, err)
	}
	p := &berthProc{name: name, httpAddr: httpAddr, cmd: cmd, log: log, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

func (p *berthProc) pid() int { return p.cmd.Process.Pid }

// exited says whether the process has ended, and how.
func (p *berthProc) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// stop ends the process with SIGINT, and SIGKILL after a timeout.
func (p *berthProc) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(agentShutdownTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

// tail returns the last n lines.
func (t *tailBuffer) tail(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return tailLines(string(t.b), n)
}

// procSample is a process's CPU time and memory at one moment.
type procSample struct {
	cpu time.Duration
	// rss is the resident memory, peak its high-water mark; anon is the part of rss in
	// anonymous memory (heaps, stacks), file the part in mapped files (the binary, etcd's database).
	rss, peak, anon, file int64
}

// readProc reads process pid's CPU time (utime + stime) from /proc/pid/stat and its resident
// memory and high-water mark (VmRSS, VmHWM) from /proc/pid/status.
func readProc(pid int) (procSample, error) {
	var s procSample
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	if s.cpu, err = parseStatCPU(b); err != nil {
		return s, err
	}
	path := fmt.Sprintf("/proc/%d/status", pid)
	s.rss, s.peak = procStatusBytes(path, "VmRSS"), procStatusBytes(path, "VmHWM")
	s.anon, s.file = procStatusBytes(path, "RssAnon"), procStatusBytes(path, "RssFile")
	return s, nil
}

// parseStatCPU returns utime + stime of a /proc/PID/stat line.
func parseStatCPU(b []byte) (time.Duration, error) {
	// The command name, in parentheses, may contain spaces: fields are counted after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc/PID/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	const utime, stime = 14 - 3, 15 - 3
	if len(f) <= stime {
		return 0, errors.New("short /proc/PID/stat")
	}
	ut, err1 := strconv.ParseInt(f[utime], 10, 64)
	st, err2 := strconv.ParseInt(f[stime], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed /proc/PID/stat")
	}
	return time.Duration(ut+st) * time.Second / userHZ, nil
}

// resetPeak resets the process's VmHWM to its current RSS (clear_refs 5), so that the peak
// read at the end of a phase is the phase's.
func resetPeak(pid int) bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
}

// phaseUsage is what a process used over a phase.
type phaseUsage struct {
	cpu time.Duration
	// peak is the phase's peak RSS (the process's since it started when it could not be
	// reset); rss the RSS at the end, of which anon in anonymous memory and file in mapped
	// files; heap the Go heap in use then (go_memstats_heap_inuse_bytes).
	peak, rss, anon, file, heap int64
}

// meter holds the processes' samples at the start of a phase.
type meter struct{ server, agent procSample }

// begin resets the processes' peaks and samples them.
func (d *deployRun) begin() meter {
	d.res.peakResettable = resetPeak(d.server.pid())
	resetPeak(d.agent.pid())
	var m meter
	m.server, _ = readProc(d.server.pid())
	m.agent, _ = readProc(d.agent.pid())
	return m
}

// end records what the processes used since begin.
func (d *deployRun) end(ctx context.Context, m meter, ph *deployPhase) {
	use := func(before procSample, p *berthProc) phaseUsage {
		after, _ := readProc(p.pid())
		heap, _ := scrapeMetric(ctx, p.httpAddr, "go_memstats_heap_inuse_bytes")
		return phaseUsage{cpu: after.cpu - before.cpu, peak: after.peak, rss: after.rss, anon: after.anon, file: after.file, heap: int64(heap)}
	}
	ph.server, ph.agent = use(m.server, d.server), use(m.agent, d.agent)
}

// scrapeMetric reads one unlabelled sample of the /metrics at httpAddr.
func scrapeMetric(ctx context.Context, httpAddr, name string) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+httpAddr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			return strconv.ParseFloat(f[1], 64)
		}
	}
	return 0, fmt.Errorf("metric %s not found at %s", name, httpAddr)
}

// nsWatch watches one resource in one namespace and hands each event to a handler, from one
// goroutine; changed is signalled after each event.
type nsWatch struct {
	changed chan struct{}
	cancel  context.CancelFunc
	done    chan struct{}
}

// startWatch watches rc's objects in ns from their current state.
func startWatch(ctx context.Context, rc *client.ResourceClient, ns string, handle func(client.Event, time.Time)) (*nsWatch, error) {
	wctx, cancel := context.WithCancel(ctx)
	w, err := rc.Watch(wctx, &metav1.ListOptions{Namespace: ns})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("watch %s in %s: %w", rc.Resource().Plural, ns, err)
	}
	nw := &nsWatch{changed: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(nw.done)
		for {
			ev, err := w.Next()
			if err != nil {
				return
			}
			handle(ev, time.Now())
			select {
			case nw.changed <- struct{}{}:
			default:
			}
		}
	}()
	return nw, nil
}

func (w *nsWatch) stop() { w.cancel(); <-w.done }

// deployWatch keeps the last state of the Deployments of a namespace seen through a watch.
type deployWatch struct {
	*nsWatch
	mu   sync.Mutex
	last *appsv1.Deployment
}

func startDeployWatch(ctx context.Context, c *client.Client, ns string) (*deployWatch, error) {
	dw := &deployWatch{}
	w, err := startWatch(ctx, c.Resource(scheme.Deployments), ns, func(ev client.Event, _ time.Time) {
		if dep, ok := ev.Object.(*appsv1.Deployment); ok && ev.Type != client.Deleted {
			dw.mu.Lock()
			dw.last = dep
			dw.mu.Unlock()
		}
	})
	dw.nsWatch = w
	return dw, err
}

// latest is the last Deployment seen (nil before any).
func (dw *deployWatch) latest() *appsv1.Deployment {
	dw.mu.Lock()
	defer dw.mu.Unlock()
	return dw.last
}

// podSeen is when a watch first saw a Pod, bound, Running and Ready, and gone.
type podSeen struct {
	version                     string
	created, bound, ready, gone time.Time
	// active is true while the Pod exists and is not terminating; readyNow while it is
	// Running and Ready.
	active, readyNow bool
}

// podWatch records when each Pod of a namespace reaches each step, and how many Pods are
// active (not terminating) and Ready at each event.
type podWatch struct {
	*nsWatch
	mu   sync.Mutex
	pods map[string]*podSeen
	// active and readyActive count the Pods now; maxActive and minReady are their extremes
	// since trackBounds.
	active, readyActive, maxActive, minReady int
	tracking                                 bool
}

func startPodWatch(ctx context.Context, c *client.Client, ns string) (*podWatch, error) {
	pw := &podWatch{pods: map[string]*podSeen{}}
	w, err := startWatch(ctx, c.Resource(scheme.Pods), ns, func(ev client.Event, at time.Time) {
		p, ok := ev.Object.(*corev1.Pod)
		if !ok {
			return
		}
		pw.mu.Lock()
		defer pw.mu.Unlock()
		s := pw.pods[p.GetMetadata().GetName()]
		if s == nil {
			s = &podSeen{version: podVersion(p), created: at}
			pw.pods[p.GetMetadata().GetName()] = s
		}
		if s.bound.IsZero() && p.GetSpec().GetNodeName() != "" {
			s.bound = at
		}
		if s.ready.IsZero() && podReady(p) {
			s.ready = at
		}
		if ev.Type == client.Deleted {
			s.gone = at
		}
		wasActive, wasReady := s.active, s.active && s.readyNow
		s.active = ev.Type != client.Deleted && p.GetMetadata().GetDeletionTimestamp() == nil
		s.readyNow = podReady(p)
		pw.active += b2i(s.active) - b2i(wasActive)
		pw.readyActive += b2i(s.active && s.readyNow) - b2i(wasReady)
		if pw.tracking {
			pw.maxActive, pw.minReady = max(pw.maxActive, pw.active), min(pw.minReady, pw.readyActive)
		}
	})
	pw.nsWatch = w
	return pw, err
}

// trackBounds starts tracking the most active and the fewest Ready Pods, from now.
func (pw *podWatch) trackBounds() {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	pw.tracking, pw.maxActive, pw.minReady = true, pw.active, pw.readyActive
}

// bounds returns the most active and the fewest active and Ready Pods seen since trackBounds.
func (pw *podWatch) bounds() (maxActive, minReady int) {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	return pw.maxActive, pw.minReady
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// podVersion is the value of the Pod's version variable.
func podVersion(p *corev1.Pod) string {
	for _, c := range p.GetSpec().GetContainers() {
		for _, e := range c.GetEnv() {
			if e.GetName() == deployVersionEnv {
				return e.GetValue()
			}
		}
	}
	return ""
}

// podReady says whether the Pod is Running with its Ready condition True.
func podReady(p *corev1.Pod) bool {
	if p.GetStatus().GetPhase() != "Running" {
		return false
	}
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus() == "True"
		}
	}
	return false
}

// podCounts counts the Pods of one version a watch has seen at each step.
type podCounts struct{ seen, bound, ready, live, otherLive int }

func (c podCounts) String() string {
	return fmt.Sprintf("pods seen %d, bound %d, Running and Ready %d, not deleted %d (and %d of other versions)", c.seen, c.bound, c.ready, c.live, c.otherLive)
}

func (pw *podWatch) count(version string) podCounts {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	var c podCounts
	for _, s := range pw.pods {
		if s.version != version {
			if s.gone.IsZero() {
				c.otherLive++
			}
			continue
		}
		c.seen++
		if !s.bound.IsZero() {
			c.bound++
		}
		if !s.ready.IsZero() {
			c.ready++
		}
		if s.gone.IsZero() {
			c.live++
		}
	}
	return c
}

// milestones sets the phase's milestones, from start, for the Pods of version: when the last
// was created, bound, ready, and when the last Pod of another version went.
func (pw *podWatch) milestones(ph *deployPhase, start time.Time, version string) {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	since := func(t time.Time) time.Duration {
		if t.IsZero() {
			return 0
		}
		return t.Sub(start)
	}
	for _, s := range pw.pods {
		if s.version != version {
			ph.oldGone = max(ph.oldGone, since(s.gone))
			continue
		}
		ph.created = max(ph.created, since(s.created))
		ph.bound = max(ph.bound, since(s.bound))
		ph.ready = max(ph.ready, since(s.ready))
	}
}
