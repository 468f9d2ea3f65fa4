package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	dockerclient "github.com/docker/docker/client"
	"google.golang.org/protobuf/types/known/structpb"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// The service benchmark (issue 7) runs `bin/berth server` and, in a process of its own as on
// a real Node, `bin/berth agent` on Docker, so that the agent's userspace service proxy serves
// a ClusterIP on the host's lo, and berth-testapp Pods behind it. From this process on the host it measures HTTP through the ClusterIP next to the
// same requests straight to the Pod IPs, in the same run, and how soon a Pod that becomes
// Ready receives traffic through its Service.

// serviceConfig sizes the service benchmark.
type serviceConfig struct {
	// rate is the open loop's requests per second; measure its measured time per path and
	// connection mode, split into rounds that alternate the paths; warmup runs before them.
	rate    int
	measure time.Duration
	rounds  int
	warmup  time.Duration
	// workers send one request after the other in the closed loop, for closed's times.
	workers int
	closed  timing
	// readyRepeats scale-ups are timed while an open loop of readyRate requests per second
	// runs, each step for at most readyTimeout.
	readyRepeats int
	readyRate    int
	readyTimeout time.Duration
	// settleTimeout bounds the waits for the Pods and Endpoints to settle.
	settleTimeout time.Duration
	// replicasBefore are the Deployment's replicas (one more during a scale-up).
	replicasBefore int
}

// Names and targets of the service benchmark.
const (
	svcNamespace = "bench-svc"
	svcName      = "web"
	svcPort      = 80
	svcPodPort   = 8080
	// svcP99Ratio: the proxy adds at most 20% to p99 at 1,000 req/s.
	svcP99Ratio = 1.2
	// svcTrafficTarget: a Pod receives traffic within a second of the Endpoints change.
	svcTrafficTarget = time.Second
	svcNodeLabel     = "io.berth.node"
)

// svcResult is the outcome of the service benchmark.
type svcResult struct {
	cfg serviceConfig
	// node, serviceRange and clusterIP are those of the run; podIPs the backends'.
	node, serviceRange, clusterIP string
	podIPs                        []string
	// setupIn is from starting the server to the ClusterIP answering from every backend.
	setupIn time.Duration
	// open and closed compare the two paths, one entry per connection mode.
	open, closed []*svcCompare
	// ready are the scale-ups of the ready → traffic measurement.
	ready []readyRun
	// cleanupErr says what the cleanup could not do; skipped why the benchmark did not run.
	cleanupErr, skipped string
}

// svcCompare is one connection mode's load through the ClusterIP and straight to the Pods,
// with the CPU used while each ran.
type svcCompare struct {
	keepAlive          bool
	cluster, pod       *loadResult
	clusterUse, podUse pathUse
}

// pathUse is the CPU used while one path was loaded: by the berth server and agent processes
// (apiserver, etcd, controllers; agent and its proxy) and by the benchmark's process (the
// load generator), over wall.
type pathUse struct {
	server, generator, wall time.Duration
}

func (u *pathUse) add(o pathUse) {
	u.server += o.server
	u.generator += o.generator
	u.wall += o.wall
}

// readyRun is one scale-up: the new Pod, and how long after the watch saw it Ready the
// Endpoints listed it ready and the load generator first got an answer from it through the
// ClusterIP.
type readyRun struct {
	pod                string
	endpoints, traffic time.Duration
	// sent and failed are the load generator's requests during the scale-up.
	sent, failed int
}

// svcRun is the system the service benchmark runs on.
type svcRun struct {
	cfg serviceConfig
	res *svcResult
	// server runs the control plane; agent, in a process of its own as on a real Node, the
	// Pods on Docker and the service proxy.
	server, agent *berthProc
	conn          *client.Client
	dc            *dockerclient.Client
	dir           string
	w             *svcWatch
}

// service runs the service benchmark.
func (r *runner) service(ctx context.Context) error {
	res := &svcResult{cfg: r.cfg.service}
	if why := serviceSkip(ctx); why != "" {
		res.skipped = why
		r.rep.service = res
		return nil
	}
	s := &svcRun{cfg: res.cfg, res: res}
	// What completed is reported even when a later step fails.
	defer func() {
		s.cleanup(context.WithoutCancel(ctx))
		r.rep.service = res
	}()
	start := time.Now()
	if err := s.start(ctx); err != nil {
		return err
	}
	if err := s.deploy(ctx); err != nil {
		return err
	}
	res.setupIn = time.Since(start)
	if err := s.openLoops(ctx); err != nil {
		return err
	}
	if err := s.closedLoops(ctx); err != nil {
		return err
	}
	if err := s.readyToTraffic(ctx); err != nil {
		return fmt.Errorf("ready → traffic: %w", err)
	}
	return nil
}

// serviceSkip says why the service benchmark cannot run here, or "".
func serviceSkip(ctx context.Context) string {
	if _, err := os.Stat(berthBinary); err != nil {
		return fmt.Sprintf("%s: %v (make bench builds it)", berthBinary, err)
	}
	if os.Geteuid() != 0 {
		return "the service proxy puts ClusterIPs on lo, which needs root (CAP_NET_ADMIN)"
	}
	dc, err := dockerclient.NewClientWithOpts(dockerclient.FromEnv, dockerclient.WithAPIVersionNegotiation())
	if err != nil {
		return fmt.Sprintf("no Docker Engine reachable (%v)", err)
	}
	defer dc.Close()
	if _, err := dc.Ping(ctx); err != nil {
		return fmt.Sprintf("no Docker Engine reachable (%v)", err)
	}
	for _, img := range []string{benchPauseImage, benchAppImage} {
		if _, err := dc.ImageInspect(ctx, img); err != nil {
			return fmt.Sprintf("image %s missing (make images builds it): %v", img, err)
		}
	}
	return ""
}

// start starts `berth server` and `berth agent` on Docker, in processes of their own as on a
// real Node (the control plane's GC and CPU bursts are not the proxy's), with a service range
// of their own, so that the proxy never touches another server's addresses on lo, and waits
// for the Node.
func (s *svcRun) start(ctx context.Context) error {
	var err error
	if s.dc, err = dockerclient.NewClientWithOpts(dockerclient.FromEnv, dockerclient.WithAPIVersionNegotiation()); err != nil {
		return fmt.Errorf("docker client: %w", err)
	}
	if s.dir, err = os.MkdirTemp("", "berth-bench-svc-"); err != nil {
		return err
	}
	s.res.node = fmt.Sprintf("bench-svc-%d", rand.IntN(1e6))
	// 10.40-89.x.0/24: outside the default range (10.96.0.0/12), which every server and agent
	// run without --service-cluster-ip-range prunes on lo, outside the e2e tests' 10.150-249
	// and outside the Pods' network.
	s.res.serviceRange = fmt.Sprintf("10.%d.%d.0/24", 40+rand.IntN(50), rand.IntN(256))
	var addrs [4]string
	for i := range addrs {
		if addrs[i], err = freeLocalAddr(); err != nil {
			return err
		}
	}
	grpcAddr, httpAddr, agentAddr, agentHTTP := addrs[0], addrs[1], addrs[2], addrs[3]
	args := []string{"server", "--data-dir", s.dir, "--grpc-addr", grpcAddr, "--http-addr", httpAddr, "--log-level", "warn",
		"--service-cluster-ip-range", s.res.serviceRange}
	if s.server, err = startBerthProc(ctx, "server", httpAddr, args...); err != nil {
		return err
	}
	if err := waitHTTPReady(ctx, "http://"+httpAddr+"/readyz", s.server); err != nil {
		return err
	}
	agentArgs := []string{"agent", "--server", grpcAddr, "--http-addr", agentHTTP, "--agent-addr", agentAddr, "--log-level", "warn",
		"--runtime", "docker", "--node-name", s.res.node, "--root-dir", s.dir + "/agent",
		"--service-cluster-ip-range", s.res.serviceRange}
	if s.agent, err = startBerthProc(ctx, "agent", agentHTTP, agentArgs...); err != nil {
		return err
	}
	if s.conn, err = client.Dial(ctx, grpcAddr, client.WithBlock()); err != nil {
		return fmt.Errorf("dial berth server: %w", err)
	}
	nodes := s.conn.Resource(scheme.Nodes)
	return s.waitUntil(ctx, agentReadyTimeout, nil, "the Node "+s.res.node+" Ready", func() bool {
		obj, err := nodes.Get(ctx, "", s.res.node)
		return err == nil && nodeReady(obj.(*corev1.Node))
	})
}

// deploy creates the namespace, the Deployment of berth-testapp and its ClusterIP Service,
// and waits until the Endpoints list every replica ready and the ClusterIP answers from each.
func (s *svcRun) deploy(ctx context.Context) error {
	if _, err := s.conn.Resource(scheme.Namespaces).Create(ctx, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: svcNamespace}}); err != nil {
		return fmt.Errorf("create namespace %s: %w", svcNamespace, err)
	}
	var err error
	if s.w, err = startSvcWatch(ctx, s.conn, svcNamespace, svcName); err != nil {
		return err
	}
	if _, err := s.conn.Resource(scheme.Deployments).Create(ctx, svcDeployment(s.cfg.replicasBefore)); err != nil {
		return fmt.Errorf("create deployment: %w", err)
	}
	obj, err := s.conn.Resource(scheme.Services).Create(ctx, svcService())
	if err != nil {
		return fmt.Errorf("create service: %w", err)
	}
	s.res.clusterIP = obj.(*corev1.Service).GetSpec().GetClusterIp()
	if s.res.clusterIP == "" {
		return fmt.Errorf("the service %s got no cluster IP", svcName)
	}
	want := s.cfg.replicasBefore
	if err := s.waitUntil(ctx, s.cfg.settleTimeout, s.w.changed, fmt.Sprintf("%d ready endpoints", want), func() bool {
		return len(s.w.endpoints()) == want
	}); err != nil {
		return err
	}
	for _, ip := range s.w.endpoints() {
		s.res.podIPs = append(s.res.podIPs, ip)
	}
	slices.Sort(s.res.podIPs)
	// The proxy follows the Endpoints within a second: wait until every backend answered.
	t := newHTTPTarget([]string{s.clusterURL()}, false)
	defer t.close()
	seen := map[string]bool{}
	return s.waitUntil(ctx, s.cfg.settleTimeout, nil, fmt.Sprintf("answers from %d backends through %s", want, s.clusterURL()), func() bool {
		if host, err := t.get(ctx); err == nil {
			seen[host] = true
		}
		return len(seen) >= want
	})
}

func (s *svcRun) clusterURL() string {
	return "http://" + net.JoinHostPort(s.res.clusterIP, strconv.Itoa(svcPort)) + "/"
}

func (s *svcRun) podURLs() []string {
	urls := make([]string, len(s.res.podIPs))
	for i, ip := range s.res.podIPs {
		urls[i] = "http://" + net.JoinHostPort(ip, strconv.Itoa(svcPodPort)) + "/"
	}
	return urls
}

// openLoops runs the open loop at the configured rate through the ClusterIP and straight to
// the Pod IPs, without and with keep-alive: after a warm-up of each, rounds that alternate the
// two paths (and which goes first) until each has run its measured time.
func (s *svcRun) openLoops(ctx context.Context) error {
	type pair struct {
		cmp          *svcCompare
		cluster, pod *httpTarget
	}
	var pairs []pair
	for _, ka := range []bool{false, true} {
		p := pair{cmp: &svcCompare{keepAlive: ka, cluster: &loadResult{}, pod: &loadResult{}},
			cluster: newHTTPTarget([]string{s.clusterURL()}, ka), pod: newHTTPTarget(s.podURLs(), ka)}
		defer p.cluster.close()
		defer p.pod.close()
		openLoop(ctx, p.cluster, s.cfg.rate, s.cfg.warmup, nil)
		openLoop(ctx, p.pod, s.cfg.rate, s.cfg.warmup, nil)
		pairs = append(pairs, p)
	}
	slice := s.cfg.measure / time.Duration(s.cfg.rounds)
	for round := range s.cfg.rounds {
		for _, p := range pairs {
			clusterFirst := round%2 == 0
			for i := range 2 {
				if (i == 0) == clusterFirst {
					p.cmp.clusterUse.add(s.cpuOf(func() { p.cmp.cluster.merge(openLoop(ctx, p.cluster, s.cfg.rate, slice, nil)) }))
				} else {
					p.cmp.podUse.add(s.cpuOf(func() { p.cmp.pod.merge(openLoop(ctx, p.pod, s.cfg.rate, slice, nil)) }))
				}
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := s.exited(); err != nil {
				return err
			}
		}
	}
	for _, p := range pairs {
		s.res.open = append(s.res.open, p.cmp)
	}
	return nil
}

// closedLoops runs the closed loop of workers through each path, without and with keep-alive.
func (s *svcRun) closedLoops(ctx context.Context) error {
	for _, ka := range []bool{false, true} {
		cmp := &svcCompare{keepAlive: ka}
		cluster, pod := newHTTPTarget([]string{s.clusterURL()}, ka), newHTTPTarget(s.podURLs(), ka)
		cmp.clusterUse = s.cpuOf(func() { cmp.cluster = closedLoop(ctx, cluster, s.cfg.workers, s.cfg.closed) })
		cmp.podUse = s.cpuOf(func() { cmp.pod = closedLoop(ctx, pod, s.cfg.workers, s.cfg.closed) })
		cluster.close()
		pod.close()
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.exited(); err != nil {
			return err
		}
		s.res.closed = append(s.res.closed, cmp)
	}
	return nil
}

// cpuOf runs fn and returns the CPU the berth server and agent processes and this one used
// meanwhile.
func (s *svcRun) cpuOf(fn func()) pathUse {
	server0, agent0 := s.procCPU()
	gen0, _ := readProc(os.Getpid())
	start := time.Now()
	fn()
	wall := time.Since(start)
	server1, agent1 := s.procCPU()
	gen1, _ := readProc(os.Getpid())
	return pathUse{server: server1 - server0 + agent1 - agent0, generator: gen1.cpu - gen0.cpu, wall: wall}
}

// procCPU returns the CPU time the server and the agent processes have used so far.
func (s *svcRun) procCPU() (server, agent time.Duration) {
	srv, _ := readProc(s.server.pid())
	ag, _ := readProc(s.agent.pid())
	return srv.cpu, ag.cpu
}

// readyToTraffic scales the Deployment up by one while the open loop sends through the
// ClusterIP with a new connection per request (so that every request is balanced anew), and
// times the new Pod from the watch seeing it Ready to the Endpoints listing it ready and to
// its first answer; then scales back and waits for the Pods to settle. It repeats.
func (s *svcRun) readyToTraffic(ctx context.Context) error {
	for i := range s.cfg.readyRepeats {
		run, err := s.scaleUpOnce(ctx)
		if err != nil {
			return fmt.Errorf("scale-up %d: %w", i+1, err)
		}
		s.res.ready = append(s.res.ready, run)
		if err := s.scale(ctx, s.cfg.replicasBefore); err != nil {
			return err
		}
		want := s.cfg.replicasBefore
		if err := s.waitUntil(ctx, s.cfg.settleTimeout, s.w.changed, fmt.Sprintf("%d Pods and %d ready endpoints after the scale-down", want, want), func() bool {
			return s.w.settled(want)
		}); err != nil {
			return err
		}
	}
	return nil
}

// scaleUpOnce scales up by one under load and times the new Pod.
func (s *svcRun) scaleUpOnce(ctx context.Context) (readyRun, error) {
	before := s.w.podNames()
	first := &firstAnswers{at: map[string]time.Time{}}
	lctx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	target := newHTTPTarget([]string{s.clusterURL()}, false)
	defer target.close()
	loaded := make(chan *loadResult, 1)
	go func() { loaded <- openLoop(lctx, target, s.cfg.readyRate, 2*s.cfg.readyTimeout, first.record) }()
	stop := func() *loadResult { stopLoad(); return <-loaded }
	if err := s.scale(ctx, s.cfg.replicasBefore+1); err != nil {
		stop()
		return readyRun{}, err
	}
	var run readyRun
	var readyAt, epAt, trafficAt time.Time
	err := s.waitUntil(ctx, s.cfg.readyTimeout, s.w.changed, "the new Pod Ready", func() bool {
		run.pod, readyAt = s.w.newReady(before)
		return run.pod != ""
	})
	if err == nil {
		err = s.waitUntil(ctx, s.cfg.readyTimeout, s.w.changed, "the Endpoints to list "+run.pod+" ready", func() bool {
			epAt = s.w.endpointsAt(run.pod)
			return !epAt.IsZero()
		})
	}
	if err == nil {
		err = s.waitUntil(ctx, s.cfg.readyTimeout, nil, "an answer from "+run.pod+" through "+s.clusterURL(), func() bool {
			trafficAt = first.get(run.pod)
			return !trafficAt.IsZero()
		})
	}
	lr := stop()
	run.sent, run.failed = lr.sent, lr.failed
	if err != nil {
		return run, err
	}
	run.endpoints, run.traffic = epAt.Sub(readyAt), trafficAt.Sub(readyAt)
	return run, nil
}

// scale sets the Deployment's replicas through its scale subresource.
func (s *svcRun) scale(ctx context.Context, replicas int) error {
	deps := s.conn.Resource(scheme.Deployments)
	for attempt := 0; ; attempt++ {
		sc, err := deps.GetScale(ctx, svcNamespace, svcName)
		if err != nil {
			return fmt.Errorf("get the scale of deployment %s: %w", svcName, err)
		}
		sc.Spec.Replicas = int32(replicas)
		_, err = deps.UpdateScale(ctx, sc)
		if kerrors.IsConflict(err) && attempt < 10 {
			continue
		}
		if err != nil {
			return fmt.Errorf("scale deployment %s to %d: %w", svcName, replicas, err)
		}
		return nil
	}
}

// waitUntil waits until cond holds, checking it whenever changed signals (changed may be nil)
// and every 10 ms, for at most timeout; what names the wait in the error.
func (s *svcRun) waitUntil(ctx context.Context, timeout time.Duration, changed <-chan struct{}, what string, cond func() bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-changed:
		case <-tick.C:
			if err := s.exited(); err != nil {
				return err
			}
		case <-deadline.C:
			log := s.server.log.tail(20)
			if s.agent != nil {
				log += "\nagent log:\n" + s.agent.log.tail(20)
			}
			return fmt.Errorf("%s: not after %s; server log:\n%s", what, timeout, log)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// exited returns an error when the server or the agent is no longer running.
func (s *svcRun) exited() error {
	for _, p := range []*berthProc{s.server, s.agent} {
		if p == nil {
			continue
		}
		if ended, err := p.exited(); ended {
			return fmt.Errorf("berth %s exited (%v); log:\n%s", p.name, err, p.log.tail(30))
		}
	}
	return nil
}

// cleanup deletes the namespace and waits for its Pods to go, stops the agent (its proxy
// takes its addresses off lo) and the server, removes the containers left on its Node and
// its data directory.
func (s *svcRun) cleanup(ctx context.Context) {
	if s.w != nil {
		s.w.stop()
	}
	if s.conn != nil && s.server != nil && s.exited() == nil {
		nss := s.conn.Resource(scheme.Namespaces)
		if _, err := nss.Delete(ctx, &metav1.DeleteRequest{Name: svcNamespace}); err != nil && !kerrors.IsNotFound(err) {
			s.res.cleanupErr = fmt.Sprintf("delete namespace %s: %v", svcNamespace, err)
		} else {
			deadline := time.Now().Add(deployCleanTimeout)
			for {
				if _, err := nss.Get(ctx, "", svcNamespace); kerrors.IsNotFound(err) {
					break
				}
				if time.Now().After(deadline) {
					s.res.cleanupErr = fmt.Sprintf("namespace %s still there %s after its deletion", svcNamespace, deployCleanTimeout)
					break
				}
				if !sleepCtx(ctx, 200*time.Millisecond) {
					break
				}
			}
		}
	}
	if s.conn != nil {
		_ = s.conn.Close()
	}
	for _, p := range []*berthProc{s.agent, s.server} {
		if p != nil {
			p.stop()
		}
	}
	if s.dc != nil {
		if s.res.node != "" {
			removeNodeContainers(ctx, s.dc, s.res.node)
		}
		_ = s.dc.Close()
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// removeNodeContainers force-removes the containers the agent of node created.
func removeNodeContainers(ctx context.Context, dc *dockerclient.Client, node string) {
	list, err := dc.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", svcNodeLabel+"="+node))})
	if err != nil {
		return
	}
	for _, c := range list {
		_ = dc.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
	}
}

// svcDeployment is the benchmark's Deployment: berth-testapp with a readiness probe on
// /healthz every second, stopping within a second when deleted.
func svcDeployment(replicas int) *appsv1.Deployment {
	labels := map[string]string{"app": svcName}
	n := int32(replicas)
	grace := int64(1)
	return &appsv1.Deployment{
		Metadata: &metav1.ObjectMeta{Namespace: svcNamespace, Name: svcName, Labels: labels},
		Spec: &appsv1.DeploymentSpec{
			Replicas: &n,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: &corev1.PodTemplateSpec{
				Metadata: &metav1.ObjectMeta{Labels: labels},
				Spec: &corev1.PodSpec{
					TerminationGracePeriodSeconds: &grace,
					Containers: []*corev1.Container{{
						Name: "web", Image: benchAppImage, ImagePullPolicy: "IfNotPresent",
						Ports: []*corev1.ContainerPort{{Name: "http", ContainerPort: svcPodPort, Protocol: "TCP"}},
						ReadinessProbe: &corev1.Probe{
							HttpGet:       &corev1.HTTPGetAction{Path: "/healthz", Port: structpb.NewNumberValue(svcPodPort)},
							PeriodSeconds: 1,
						},
					}},
				},
			},
		},
	}
}

// svcService is the ClusterIP Service in front of the Deployment: port 80 to the Pods' http.
func svcService() *corev1.Service {
	return &corev1.Service{
		Metadata: &metav1.ObjectMeta{Namespace: svcNamespace, Name: svcName},
		Spec: &corev1.ServiceSpec{
			Selector: map[string]string{"app": svcName},
			Ports:    []*corev1.ServicePort{{Name: "http", Port: svcPort, Protocol: "TCP", TargetPort: structpb.NewStringValue("http")}},
		},
	}
}
