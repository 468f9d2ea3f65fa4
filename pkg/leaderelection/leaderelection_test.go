package leaderelection_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/types/known/timestamppb"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/events"
	"github.com/berth-dev/berth/pkg/leaderelection"
	"github.com/berth-dev/berth/pkg/scheme"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
	"github.com/berth-dev/berth/services/apiserver/etcdserver"
)

// Short timings keep the tests quick; their ratios are Kubernetes' defaults' (15s, 10s, 2s).
const (
	leaseDuration = 3 * time.Second
	renewDeadline = 2 * time.Second
	retryPeriod   = 300 * time.Millisecond
	leaseName     = "test-election"
)

// windDown is how long a leader's work takes to stop once its ctx ends: the window in which
// a second leader would overlap it.
const windDown = 300 * time.Millisecond

// tracker counts the candidates whose OnStartedLeading is running, and fails the test if it
// ever sees two.
type tracker struct {
	t       testing.TB
	mu      sync.Mutex
	leading map[string]bool
	terms   []string // identities, in the order they started leading
}

func newTracker(t testing.TB) *tracker { return &tracker{t: t, leading: map[string]bool{}} }

func (tr *tracker) start(id string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for other := range tr.leading {
		tr.t.Errorf("%s started leading while %s still leads", id, other)
	}
	tr.leading[id] = true
	tr.terms = append(tr.terms, id)
}

func (tr *tracker) stop(id string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	delete(tr.leading, id)
}

// leader is the candidate leading now, "" if none.
func (tr *tracker) leader() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for id := range tr.leading {
		return id
	}
	return ""
}

func (tr *tracker) termCount() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.terms)
}

// candidate is one Run on a connection of its own, so that the test can cut it.
type candidate struct {
	id       string
	client   *client.Client
	cancel   context.CancelFunc
	done     chan error
	stopped  atomic.Int32 // OnStoppedLeading calls
	stoppedC chan time.Time
	mu       sync.Mutex
	leaders  []string // OnNewLeader calls
}

type candidateOptions struct {
	tweak func(*leaderelection.Config)
}

func startCandidate(t *testing.T, addr, id string, tr *tracker, opts candidateOptions) *candidate {
	t.Helper()
	c, err := client.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cand := &candidate{id: id, client: c, cancel: cancel, done: make(chan error, 1), stoppedC: make(chan time.Time, 10)}
	cfg := leaderelection.Config{
		Client: c, Name: leaseName, Identity: id,
		LeaseDuration: leaseDuration, RenewDeadline: renewDeadline, RetryPeriod: retryPeriod,
		Logger: testLogger(t).With("candidate", id),
		OnStartedLeading: func(ctx context.Context) {
			tr.start(id)
			<-ctx.Done()
			time.Sleep(windDown)
			tr.stop(id)
		},
		OnStoppedLeading: func() {
			cand.stopped.Add(1)
			cand.stoppedC <- time.Now()
		},
		OnNewLeader: func(leader string) {
			cand.mu.Lock()
			cand.leaders = append(cand.leaders, leader)
			cand.mu.Unlock()
		},
	}
	if opts.tweak != nil {
		opts.tweak(&cfg)
	}
	go func() { cand.done <- leaderelection.Run(ctx, cfg) }()
	t.Cleanup(func() {
		cand.stop(t)
		c.Close()
	})
	return cand
}

// stop ends the candidate's Run and waits for it.
func (c *candidate) stop(t *testing.T) {
	t.Helper()
	c.cancel()
	select {
	case err, ok := <-c.done:
		if ok && err != nil {
			t.Errorf("%s: Run: %v", c.id, err)
		}
		if ok {
			close(c.done)
		}
	case <-time.After(3 * renewDeadline):
		t.Fatalf("%s: Run did not return after its ctx ended", c.id)
	}
}

func (c *candidate) newLeaders() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.leaders...)
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// waitFor polls cond until it holds or timeout passes, and says how long it took.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("%s: not after %s", what, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

func getLease(t *testing.T, addr string) *coordinationv1.Lease {
	t.Helper()
	c, err := client.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	obj, err := c.Resource(scheme.Leases).Get(context.Background(), leaderelection.DefaultNamespace, leaseName)
	if err != nil {
		t.Fatalf("get lease: %v", err)
	}
	return obj.(*coordinationv1.Lease)
}

func TestOneOfTwoLeads(t *testing.T) {
	addr := apiservertest.Start(t)
	tr := newTracker(t)
	regs := map[string]*prometheus.Registry{"a": prometheus.NewRegistry(), "b": prometheus.NewRegistry()}
	a := startCandidate(t, addr, "a", tr, candidateOptions{tweak: func(c *leaderelection.Config) { c.Metrics = regs["a"] }})
	b := startCandidate(t, addr, "b", tr, candidateOptions{tweak: func(c *leaderelection.Config) { c.Metrics = regs["b"] }})
	waitFor(t, 5*time.Second, "a leader", func() bool { return tr.leader() != "" })
	leader := tr.leader()
	first := getLease(t, addr)
	// Several renewals later the same candidate leads, alone.
	time.Sleep(4 * retryPeriod)
	if got := tr.leader(); got != leader || tr.termCount() != 1 {
		t.Fatalf("leader %q after %d terms, want %q alone", got, tr.termCount(), leader)
	}
	l := getLease(t, addr)
	spec := l.GetSpec()
	if spec.GetHolderIdentity() != leader || spec.GetLeaseDurationSeconds() != 3 || spec.GetLeaseTransitions() != 0 {
		t.Errorf("lease spec = %v, want holder %s, 3s, 0 transitions", spec, leader)
	}
	if !spec.GetAcquireTime().AsTime().Equal(first.GetSpec().GetAcquireTime().AsTime()) {
		t.Errorf("acquireTime changed on renewal: %v then %v", first.GetSpec().GetAcquireTime().AsTime(), spec.GetAcquireTime().AsTime())
	}
	if renew := spec.GetRenewTime().AsTime(); !renew.After(first.GetSpec().GetRenewTime().AsTime()) || time.Since(renew) > 3*retryPeriod {
		t.Errorf("renewTime %v not renewed since %v", renew, first.GetSpec().GetRenewTime().AsTime())
	}
	if ns := l.GetSpec().GetRenewTime().AsTime().Nanosecond(); ns%1000 != 0 {
		t.Errorf("renewTime has nanoseconds %d, want microsecond precision", ns)
	}
	for _, c := range []*candidate{a, b} {
		waitFor(t, time.Second, c.id+" told of the leader", func() bool { return len(c.newLeaders()) > 0 })
		if got := c.newLeaders(); len(got) != 1 || got[0] != leader {
			t.Errorf("%s: OnNewLeader calls %v, want [%s]", c.id, got, leader)
		}
	}
	follower := map[string]string{"a": "b", "b": "a"}[leader]
	for id, want := range map[string]float64{leader: 1, follower: 0} {
		if got := isLeaderGauge(t, regs[id]); got != want {
			t.Errorf("%s: berth_leader_election_is_leader = %v, want %v", id, got, want)
		}
	}
}

// isLeaderGauge reads berth_leader_election_is_leader{lease="kube-system/test-election"}.
func isLeaderGauge(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "berth_leader_election_is_leader" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if lbl := m.GetLabel(); len(lbl) == 1 && lbl[0].GetName() == "lease" && lbl[0].GetValue() == "kube-system/"+leaseName {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatal("berth_leader_election_is_leader{lease=\"kube-system/test-election\"} not exported")
	return 0
}

func otherOf(cands []*candidate, id string) *candidate {
	for _, c := range cands {
		if c.id != id {
			return c
		}
	}
	return nil
}

func byID(cands []*candidate, id string) *candidate {
	for _, c := range cands {
		if c.id == id {
			return c
		}
	}
	return nil
}

func TestReleaseHandsOverAtOnce(t *testing.T) {
	addr := apiservertest.Start(t)
	tr := newTracker(t)
	// A long lease: a handover well within it can only come from the release.
	long := func(c *leaderelection.Config) { c.LeaseDuration, c.RenewDeadline = 30*time.Second, 20*time.Second }
	cands := []*candidate{
		startCandidate(t, addr, "a", tr, candidateOptions{tweak: long}),
		startCandidate(t, addr, "b", tr, candidateOptions{tweak: long}),
	}
	waitFor(t, 5*time.Second, "a leader", func() bool { return tr.leader() != "" })
	old := byID(cands, tr.leader())
	next := otherOf(cands, old.id)
	stopAt := time.Now()
	old.stop(t) // returns once the work stopped and the Lease is released
	if old.stopped.Load() != 1 {
		t.Errorf("%s: OnStoppedLeading called %d times, want 1", old.id, old.stopped.Load())
	}
	took := waitFor(t, 5*time.Second, next.id+" leading", func() bool { return tr.leader() == next.id })
	t.Logf("handover %s after the leader was told to stop (its work takes %s to stop)", time.Since(stopAt), windDown)
	if took > 2*time.Second {
		t.Errorf("handover took %s after the release, want at once", took)
	}
	spec := getLease(t, addr).GetSpec()
	if spec.GetHolderIdentity() != next.id || spec.GetLeaseTransitions() != 1 || spec.GetLeaseDurationSeconds() != 30 {
		// A release is no transition; taking the released Lease is one, as in Kubernetes.
		t.Errorf("lease after handover: %v", spec)
	}
	if got := next.newLeaders(); len(got) != 2 || got[0] != old.id || got[1] != next.id {
		t.Errorf("%s: OnNewLeader calls %v, want [%s %s]", next.id, got, old.id, next.id)
	}
}

func TestDeadLeaderHandsOverAfterExpiry(t *testing.T) {
	addr := apiservertest.Start(t)
	tr := newTracker(t)
	cands := []*candidate{
		startCandidate(t, addr, "a", tr, candidateOptions{}),
		startCandidate(t, addr, "b", tr, candidateOptions{}),
	}
	waitFor(t, 5*time.Second, "a leader", func() bool { return tr.leader() != "" })
	dead := byID(cands, tr.leader())
	next := otherOf(cands, dead.id)
	// Renewals stop as if the process died: its connection is cut, so it cannot release
	// either. The last renewal was at most one retry period ago.
	cut := time.Now()
	dead.client.Close()
	took := waitFor(t, leaseDuration+2*time.Second, next.id+" leading", func() bool { return tr.leader() == next.id })
	t.Logf("handover %s after the leader's connection was cut", took)
	if min := leaseDuration - retryPeriod - 200*time.Millisecond; took < min {
		t.Errorf("%s took over after %s, before the lease could expire (%s)", next.id, took, min)
	}
	if took > leaseDuration+500*time.Millisecond {
		t.Errorf("%s took over after %s, want within the lease duration %s of the last renewal", next.id, took, leaseDuration)
	}
	// The cut leader stepped down on its own once renewals failed for the renew deadline.
	select {
	case at := <-dead.stoppedC:
		if d := at.Sub(cut); d < renewDeadline-retryPeriod-100*time.Millisecond || d > renewDeadline+windDown+time.Second {
			t.Errorf("%s stepped down %s after its connection was cut, want about the renew deadline %s", dead.id, d, renewDeadline)
		}
	default:
		t.Errorf("%s never stepped down", dead.id)
	}
	spec := getLease(t, addr).GetSpec()
	if spec.GetHolderIdentity() != next.id || spec.GetLeaseTransitions() != 1 {
		t.Errorf("lease after takeover: %v", spec)
	}
	if !spec.GetAcquireTime().AsTime().After(cut) {
		t.Errorf("acquireTime %v not set by the takeover", spec.GetAcquireTime().AsTime())
	}
}

// TestNeverTwoLeaders replaces the leader again and again, by clean stops and by cut
// connections, with three candidates in the race; the tracker fails the test if two
// candidates' work ever overlaps, including the windDown of the one stopping.
func TestNeverTwoLeaders(t *testing.T) {
	if testing.Short() {
		t.Skip("replaces the leader several times")
	}
	addr := apiservertest.Start(t)
	tr := newTracker(t)
	var cands []*candidate
	n := 0
	add := func() {
		n++
		cands = append(cands, startCandidate(t, addr, fmt.Sprintf("c%d", n), tr, candidateOptions{}))
	}
	for range 3 {
		add()
	}
	for round := range 6 {
		waitFor(t, leaseDuration+3*time.Second, fmt.Sprintf("round %d: a leader", round), func() bool { return tr.leader() != "" })
		leader := byID(cands, tr.leader())
		terms := tr.termCount()
		if round%2 == 0 {
			leader.stop(t)
		} else {
			leader.client.Close()
		}
		// The remaining candidates race for the Lease; one wins.
		waitFor(t, leaseDuration+3*time.Second, fmt.Sprintf("round %d: a new leader", round), func() bool {
			l := tr.leader()
			return l != "" && l != leader.id && tr.termCount() > terms
		})
		for i, c := range cands {
			if c == leader {
				cands = append(cands[:i], cands[i+1:]...)
				break
			}
		}
		add()
	}
	tr.mu.Lock()
	t.Logf("terms: %v", tr.terms)
	tr.mu.Unlock()
}

// startStoppableAPIServer runs an apiserver that the test can stop and start again on the same
// address, on an etcd that stays up.
func startStoppableAPIServer(t *testing.T) (addr string, stop, restart func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e, err := etcdserver.Start(ctx, etcdserver.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("start etcd: %v", err)
	}
	t.Cleanup(e.Close)
	var (
		mu         sync.Mutex
		done       chan struct{}
		stopServer context.CancelFunc
	)
	start := func(listenAddr string) string {
		l, err := net.Listen("tcp", listenAddr)
		if err != nil {
			t.Fatalf("listen: %v", err)
		}
		s, err := apiserver.New(apiserver.Config{Etcd: e.Client, Listener: l, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatalf("new apiserver: %v", err)
		}
		sctx, scancel := context.WithCancel(ctx)
		d := make(chan struct{})
		go func() {
			defer close(d)
			if err := s.Run(sctx); err != nil {
				t.Errorf("apiserver: %v", err)
			}
		}()
		select {
		case <-s.Ready():
		case <-time.After(30 * time.Second):
			t.Fatal("apiserver not ready after 30s")
		}
		mu.Lock()
		done, stopServer = d, scancel
		mu.Unlock()
		return s.Addr()
	}
	stop = func() {
		mu.Lock()
		defer mu.Unlock()
		if stopServer != nil {
			stopServer()
			<-done
			stopServer = nil
		}
	}
	addr = start("127.0.0.1:0")
	t.Cleanup(stop)
	return addr, stop, func() { start(addr) }
}

func TestAPIServerGoneLeaderStepsDown(t *testing.T) {
	addr, stop, restart := startStoppableAPIServer(t)
	tr := newTracker(t)
	c := startCandidate(t, addr, "a", tr, candidateOptions{})
	waitFor(t, 5*time.Second, "a leading", func() bool { return tr.leader() == "a" })
	time.Sleep(2 * retryPeriod)
	gone := time.Now()
	stop()
	select {
	case at := <-c.stoppedC:
		d := at.Sub(gone)
		t.Logf("stepped down %s after the apiserver went away", d)
		if d < renewDeadline-retryPeriod-100*time.Millisecond || d > renewDeadline+windDown+time.Second {
			t.Errorf("stepped down %s after the apiserver went away, want after about the renew deadline %s", d, renewDeadline)
		}
	case <-time.After(renewDeadline + 5*time.Second):
		t.Fatal("the leader did not step down without its apiserver")
	}
	if tr.leader() != "" {
		t.Errorf("%s still leads", tr.leader())
	}
	// It campaigns on, and leads again once the apiserver is back: the Lease is its own.
	restart()
	waitFor(t, leaseDuration+5*time.Second, "a leading again", func() bool { return tr.leader() == "a" })
	if spec := getLease(t, addr).GetSpec(); spec.GetHolderIdentity() != "a" {
		t.Errorf("lease holder %q, want a", spec.GetHolderIdentity())
	}
}

func TestWorkEndingReleasesAndReturns(t *testing.T) {
	addr := apiservertest.Start(t)
	c, err := client.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var started, stopped atomic.Int32
	err = leaderelection.Run(context.Background(), leaderelection.Config{
		Client: c, Name: leaseName, Identity: "a",
		LeaseDuration: leaseDuration, RenewDeadline: renewDeadline, RetryPeriod: retryPeriod,
		Logger:           testLogger(t),
		OnStartedLeading: func(context.Context) { started.Add(1); time.Sleep(2 * retryPeriod) },
		OnStoppedLeading: func() { stopped.Add(1) },
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if started.Load() != 1 || stopped.Load() != 1 {
		t.Errorf("OnStartedLeading called %d times, OnStoppedLeading %d; want 1 and 1", started.Load(), stopped.Load())
	}
	spec := getLease(t, addr).GetSpec()
	if spec.GetHolderIdentity() != "" || spec.GetLeaseDurationSeconds() != 1 || spec.GetLeaseTransitions() != 0 {
		t.Errorf("lease after Run returned: %v, want released", spec)
	}
	if !spec.GetAcquireTime().AsTime().Equal(spec.GetRenewTime().AsTime()) {
		t.Errorf("released lease: acquireTime %v != renewTime %v", spec.GetAcquireTime().AsTime(), spec.GetRenewTime().AsTime())
	}
}

// TestTakesOverExistingLease: a Lease left by a holder that is gone (from an earlier run) is
// taken over once it has not changed for its duration, on this candidate's clock, whatever its
// renewTime says.
func TestTakesOverExistingLease(t *testing.T) {
	addr := apiservertest.Start(t)
	c, err := client.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The old holder's clock is an hour ahead: its renewTime is in the future.
	future := time.Now().Add(time.Hour)
	_, err = c.Resource(scheme.Leases).Create(context.Background(), &coordinationv1.Lease{
		Metadata: &metav1.ObjectMeta{Namespace: leaderelection.DefaultNamespace, Name: leaseName},
		Spec: &coordinationv1.LeaseSpec{
			HolderIdentity: ptr("gone"), LeaseDurationSeconds: ptr(int32(2)), LeaseTransitions: ptr(int32(5)),
			AcquireTime: timestamp(future), RenewTime: timestamp(future),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	tr := newTracker(t)
	start := time.Now()
	cand := startCandidate(t, addr, "a", tr, candidateOptions{})
	took := waitFor(t, 5*time.Second, "a leading", func() bool { return tr.leader() == "a" })
	if took < 2*time.Second-100*time.Millisecond {
		t.Errorf("took over after %s, before the 2s lease could expire", took)
	}
	t.Logf("took over after %s", time.Since(start))
	if got := cand.newLeaders(); len(got) != 2 || got[0] != "gone" || got[1] != "a" {
		t.Errorf("OnNewLeader calls %v, want [gone a]", got)
	}
	if spec := getLease(t, addr).GetSpec(); spec.GetLeaseTransitions() != 6 || spec.GetLeaseDurationSeconds() != 3 {
		t.Errorf("lease after takeover: %v, want 6 transitions, 3s", spec)
	}
}

// TestLeaseDeletedWhileLeading: the leader recreates a Lease deleted under it and keeps leading.
func TestLeaseDeletedWhileLeading(t *testing.T) {
	addr := apiservertest.Start(t)
	tr := newTracker(t)
	startCandidate(t, addr, "a", tr, candidateOptions{})
	waitFor(t, 5*time.Second, "a leading", func() bool { return tr.leader() == "a" })
	c, err := client.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	leases := c.Resource(scheme.Leases)
	if _, err := leases.Delete(context.Background(), &metav1.DeleteRequest{Namespace: leaderelection.DefaultNamespace, Name: leaseName}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the lease recreated", func() bool {
		obj, err := leases.Get(context.Background(), leaderelection.DefaultNamespace, leaseName)
		if kerrors.IsNotFound(err) {
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		return obj.(*coordinationv1.Lease).GetSpec().GetHolderIdentity() == "a"
	})
	if tr.termCount() != 1 || tr.leader() != "a" {
		t.Errorf("leader %q after %d terms, want a in its first term", tr.leader(), tr.termCount())
	}
}

func TestEvents(t *testing.T) {
	addr := apiservertest.Start(t)
	tr := newTracker(t)
	c, err := client.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rec := events.New(corev1.NewEventServiceClient(c.Conn()), "test-component", "", nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go rec.Run(ctx)
	a := startCandidate(t, addr, "a", tr, candidateOptions{tweak: func(c *leaderelection.Config) { c.Recorder = rec }})
	waitFor(t, 5*time.Second, "a leading", func() bool { return tr.leader() == "a" })
	a.stop(t)
	var msgs []string
	waitFor(t, 5*time.Second, "two LeaderElection events", func() bool {
		objs, _, err := c.Resource(scheme.Events).List(context.Background(), &metav1.ListOptions{Namespace: leaderelection.DefaultNamespace})
		if err != nil {
			t.Fatal(err)
		}
		msgs = nil
		for _, o := range objs {
			ev := o.(*corev1.Event)
			if ev.GetReason() == "LeaderElection" && ev.GetInvolvedObject().GetKind() == "Lease" && ev.GetInvolvedObject().GetName() == leaseName {
				msgs = append(msgs, ev.GetMessage())
			}
		}
		return len(msgs) == 2
	})
	if !strings.Contains(strings.Join(msgs, "|"), "a became leader") || !strings.Contains(strings.Join(msgs, "|"), "a stopped leading") {
		t.Errorf("events %q, want became leader and stopped leading", msgs)
	}
}

func TestInvalidConfig(t *testing.T) {
	err := leaderelection.Run(context.Background(), leaderelection.Config{Name: leaseName})
	if err == nil || !strings.Contains(err.Error(), "a client is required") || !strings.Contains(err.Error(), "OnStartedLeading is required") {
		t.Errorf("Run with an empty config: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func timestamp(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }
