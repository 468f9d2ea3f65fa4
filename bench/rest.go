package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime/pprof"
	"slices"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"
	kcorev1 "k8s.io/api/core/v1"

	"github.com/berth-dev/berth/gateway"
	"github.com/berth-dev/berth/pkg/kubejson"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// restConfig sizes the REST benchmark.
type restConfig struct {
	// clients are the concurrency levels of the REST and gRPC load runs.
	clients []int
	// listSize is the number of Pods listed; the gets read one of them.
	listSize int
	// watchers watch Pods over HTTP, one connection each, while a writer creates rate Pods/s
	// for duration.
	watchers, rate int
	duration       time.Duration
}

// restConfigFor sizes the REST benchmark for a run: 1 and 16 clients, lists of 1k Pods, and
// 500 HTTP watchers of 200 writes/s for 15 s (100 watchers for 5 s with -quick). Runs smaller
// than that (the harness's tests) scale it down with the fan-out and list sizes.
func restConfigFor(cfg config) restConfig {
	rc := restConfig{listSize: 1000, watchers: 500, rate: 200, duration: 15 * time.Second}
	if cfg.quick {
		rc.watchers, rc.duration = 100, 5*time.Second
	}
	for _, c := range cfg.clients {
		if c <= maxRESTClients {
			rc.clients = append(rc.clients, c)
		}
	}
	rc.listSize = min(rc.listSize, slices.Max(cfg.listSizes))
	rc.watchers = min(rc.watchers, cfg.fanout.watchers)
	rc.rate = min(rc.rate, cfg.fanout.rate)
	rc.duration = min(rc.duration, cfg.fanout.duration)
	return rc
}

// restResult is the outcome of the REST benchmark.
type restResult struct {
	cfg  restConfig
	rows []restRow
	// listBytes is the size of the JSON list of listSize Pods.
	listBytes int
	// watch is the HTTP watch fan-out.
	watch *fanoutResult
	// wiring says how the gateway reaches the apiserver.
	wiring string
}

// restRow is one operation at one concurrency through REST and through gRPC.
type restRow struct {
	op         string
	clients    int
	rest, grpc stats
}

// maxRESTClients bounds the concurrency of the REST benchmark's load runs.
const maxRESTClients = 16

// restRounds is the number of alternating rounds of each side's measured time.
const restRounds = 3

// merge adds the operations of another run to s.
func (s stats) merge(o stats) stats {
	lat := append(slices.Clone(s.lat), o.lat...)
	slices.Sort(lat)
	return stats{ops: s.ops + o.ops, elapsed: s.elapsed + o.elapsed, lat: lat, bytes: s.bytes + o.bytes}
}

// restTarget bounds REST against gRPC: REST's throughput at least 1/restTarget of gRPC's,
// and its p99 latency at most restTarget times gRPC's.
const restTarget = 1.5

// gatewayEnv is the REST gateway in front of the benchmark's apiserver, on a 127.0.0.1 HTTP
// listener, with the HTTP clients that talk to it.
type gatewayEnv struct {
	base string
	// http is the load runs' client: keep-alive connections, one per concurrent client.
	http *http.Client
	stop func()
}

// startGateway starts the gateway as `berth server` does (services/controlplane), outside the
// clients' profiler labels: its goroutines, and those of its connection to the apiserver, are
// the servers'.
func (r *runner) startGateway(ctx context.Context) (*gatewayEnv, error) {
	type started struct {
		g   *gatewayEnv
		err error
	}
	done := make(chan started, 1)
	go func() {
		pprof.SetGoroutineLabels(context.Background())
		g, err := newGatewayEnv(context.WithoutCancel(ctx), r.env)
		done <- started{g, err}
	}()
	s := <-done
	return s.g, s.err
}

func newGatewayEnv(ctx context.Context, e *env) (*gatewayEnv, error) {
	c, err := e.api.DialInProcess(ctx)
	if err != nil {
		return nil, err
	}
	g, err := gateway.New(c, gateway.Options{})
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("new gateway: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(l) }()
	tr := &http.Transport{
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &gatewayEnv{
		base: "http://" + l.Addr().String(),
		http: &http.Client{Transport: tr},
		stop: func() {
			tr.CloseIdleConnections()
			_ = srv.Close()
			<-served
			_ = c.Close()
		},
	}, nil
}

// do sends one request and reads the whole answer into buf, which it reuses. An answer with
// another status than want is an error carrying the beginning of its body.
func (g *gatewayEnv) do(ctx context.Context, method, path string, body []byte, want int, buf *bytes.Buffer) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, g.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := g.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return 0, fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return 0, fmt.Errorf("%s %s: %s: %.300s", method, path, resp.Status, buf.Bytes())
	}
	return buf.Len(), nil
}

// rest measures Berth's REST face against its gRPC API: Pod get, list and create through the
// gateway (net/http, keep-alive, JSON) and through gRPC clients, back to back at each
// concurrency; then Pod watches over HTTP while a writer creates Pods. A last, unmeasured,
// window runs the REST operations alone under the CPU profiler.
func (r *runner) rest(ctx context.Context) error {
	cfg := restConfigFor(r.cfg)
	g, err := r.startGateway(ctx)
	if err != nil {
		return err
	}
	defer g.stop()
	res := &restResult{cfg: cfg, wiring: "apiserver.DialInProcess, as in `berth server`: in-process calls, no TCP hop and no protobuf encoding"}
	r.rep.rest = res

	n := cfg.listSize
	ns, err := r.ensurePods(ctx, n)
	if err != nil {
		return err
	}
	if res.listBytes, err = r.checkRESTList(ctx, g, ns, n); err != nil {
		return err
	}
	const createNS = "rest-create"
	if err := r.env.createNamespace(ctx, createNS); err != nil {
		return err
	}
	body, err := newCreateBodies(createNS)
	if err != nil {
		return err
	}
	ops := restOps(r, g, ns, n, createNS, body, res.listBytes)
	// The measured time of each side is split into rounds that alternate, so that both see the
	// same share of whatever else the machine does meanwhile. The first round warms up longer.
	for _, o := range ops {
		for _, c := range cfg.clients {
			var row restRow
			for round := range restRounds {
				t := timing{warmup: r.cfg.timing.warmup, measure: r.cfg.timing.measure / restRounds}
				if round > 0 {
					t.warmup /= 4
				}
				grpcStats, err := load(ctx, c, t, o.grpc(c*restRounds+round))
				if err != nil {
					return fmt.Errorf("%s through gRPC, %d clients: %w", o.name, c, err)
				}
				restStats, err := load(ctx, c, t, o.rest(c*restRounds+round))
				if err != nil {
					return fmt.Errorf("%s through REST, %d clients: %w", o.name, c, err)
				}
				row.grpc, row.rest = row.grpc.merge(grpcStats), row.rest.merge(restStats)
			}
			row.op, row.clients = o.name, c
			res.rows = append(res.rows, row)
		}
	}
	// The profile: REST alone at the highest concurrency, half as long as a measured run.
	top := slices.Max(cfg.clients)
	pt := timing{warmup: r.cfg.timing.warmup, measure: r.cfg.timing.measure / 2}
	err = r.profile("rest", func() error {
		for _, o := range ops {
			if _, err := load(ctx, top, pt, o.rest(-1)); err != nil {
				return fmt.Errorf("%s through REST, %d clients (profiled): %w", o.name, top, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := r.cleanup(ctx, podKeyPrefix+createNS+"/"); err != nil {
		return err
	}
	if res.watch, err = r.restWatch(ctx, g, cfg); err != nil {
		return err
	}
	return r.cleanup(ctx, podKeyPrefix+restWatchNS+"/")
}

// restOp is one operation, through each API; rest(run) and grpc(run) return the operation of
// a run, which creates use to name their Pods apart (run < 0 for the profiled window).
type restOp struct {
	name       string
	rest, grpc func(run int) op
}

func restOps(r *runner, g *gatewayEnv, ns string, n int, createNS string, body createBodies, listBytes int) []restOp {
	podPath := "/api/v1/namespaces/" + ns + "/pods"
	// Each worker reads its answers into a buffer of its own.
	bufs := make([]bytes.Buffer, maxRESTClients)
	frames := make([][]byte, maxRESTClients)
	return []restOp{{
		name: "Pod get",
		rest: func(int) op {
			return func(ctx context.Context, w, _ int) (int, error) {
				return g.do(ctx, http.MethodGet, podPath+"/"+podName("pod", rand.IntN(n)), nil, http.StatusOK, &bufs[w])
			}
		},
		grpc: func(int) op {
			return func(ctx context.Context, w, _ int) (int, error) {
				req := &metav1.GetRequest{Namespace: ns, Name: podName("pod", rand.IntN(n))}
				err := invokeFrames(ctx, r.env.apiConns[w%poolSize].Conn(), "Get", req, &frames[w])
				return len(frames[w]), err
			}
		},
	}, {
		name: "Pod list " + count(n),
		rest: func(int) op {
			return func(ctx context.Context, w, _ int) (int, error) {
				size, err := g.do(ctx, http.MethodGet, podPath, nil, http.StatusOK, &bufs[w])
				// The list's resourceVersion may have grown by a digit since the first list.
				if err == nil && (size < listBytes || size > listBytes+8) {
					err = fmt.Errorf("listed %d bytes, want %d", size, listBytes)
				}
				return size, err
			}
		},
		grpc: func(int) op {
			return func(ctx context.Context, w, _ int) (int, error) {
				err := listFrames(ctx, r.env.apiConns[w%poolSize].Conn(), &metav1.ListOptions{Namespace: ns}, &frames[w])
				return len(frames[w]), err
			}
		},
	}, {
		name: "Pod create",
		rest: func(run int) op {
			return func(ctx context.Context, w, seq int) (int, error) {
				b := body.rest(fmt.Sprintf("rest-r%d-w%d-%d", run, w, seq))
				if _, err := g.do(ctx, http.MethodPost, "/api/v1/namespaces/"+createNS+"/pods", b, http.StatusCreated, &bufs[w]); err != nil {
					return 0, err
				}
				return len(b), nil
			}
		},
		grpc: func(run int) op {
			// Each client reuses its request, renamed, as the create benchmark's do.
			pods := make([]*corev1.Pod, maxRESTClients)
			return func(ctx context.Context, w, seq int) (int, error) {
				if pods[w] == nil {
					pods[w] = newPod(createNS, "")
				}
				p := pods[w]
				p.Metadata.Name = fmt.Sprintf("grpc-r%d-w%d-%d", run, w, seq)
				err := invokeFrames(ctx, r.env.apiConns[w%poolSize].Conn(), "Create", p, &frames[w])
				return proto.Size(p), err
			}
		},
	}}
}

// createBodies makes the JSON bodies of REST creates: the template Pod, as kubejson writes it,
// with a name of the caller's choosing.
type createBodies struct {
	before, after []byte
}

// namePlaceholder stands for the name in the encoded template.
const namePlaceholder = "bench-name-placeholder"

func newCreateBodies(namespace string) (createBodies, error) {
	b, err := kubejson.Marshal(newPod(namespace, namePlaceholder))
	if err != nil {
		return createBodies{}, fmt.Errorf("encode the template pod: %w", err)
	}
	before, after, ok := bytes.Cut(b, []byte(`"`+namePlaceholder+`"`))
	if !ok || bytes.Contains(after, []byte(namePlaceholder)) {
		return createBodies{}, errors.New("the encoded template pod does not hold its name once")
	}
	return createBodies{before: before, after: after}, nil
}

// rest returns the body of a create of the Pod name (a name needs no JSON escaping).
func (c createBodies) rest(name string) []byte {
	b := make([]byte, 0, len(c.before)+len(name)+2+len(c.after))
	b = append(b, c.before...)
	b = strconv.AppendQuote(b, name)
	return append(b, c.after...)
}

// checkRESTList lists the n Pods of namespace ns through REST, checks that the answer decodes
// strictly into Kubernetes' PodList with n items, and returns its size.
func (r *runner) checkRESTList(ctx context.Context, g *gatewayEnv, ns string, n int) (int, error) {
	var buf bytes.Buffer
	size, err := g.do(ctx, http.MethodGet, "/api/v1/namespaces/"+ns+"/pods", nil, http.StatusOK, &buf)
	if err != nil {
		return 0, err
	}
	var l kcorev1.PodList
	dec := json.NewDecoder(&buf)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return 0, fmt.Errorf("decode the REST list of %s: %w", ns, err)
	}
	if l.Kind != "PodList" || len(l.Items) != n {
		return 0, fmt.Errorf("REST list of %s: kind %q with %d items, want PodList with %d", ns, l.Kind, len(l.Items), n)
	}
	return size, nil
}
