//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/e2e/e2eutil"
)

// Services, continued (issue 7): scaling down behind a Service loses no request, and bad
// input is refused with Kubernetes' messages.

// drainManifest is a Deployment of berth-testapp that keeps serving for $SHUTDOWN_DELAY after
// SIGTERM, as Kubernetes users make their servers (or give them a preStop sleep), behind the
// Service drain.
const drainManifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: drain
spec:
  replicas: 3
  selector:
    matchLabels:
      app: drain
  template:
    metadata:
      labels:
        app: drain
    spec:
      terminationGracePeriodSeconds: 15
      containers:
      - name: web
        image: berth-testapp:latest
        env:
        - name: SHUTDOWN_DELAY
          value: 4s
        ports:
        - name: http
          containerPort: 8080
        readinessProbe:
          httpGet:
            path: /healthz
            port: 8080
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: drain
spec:
  selector:
    app: drain
  ports:
  - name: http
    port: 80
    targetPort: http
`

// drainClient is a Pod to send requests from, as Pods do, through the host's proxy.
const drainClient = `apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: sh
    image: berth-shell:latest
    command: ["sleep", "3600"]
`

// load sends GET requests to a URL every interval, each on a new connection, and counts the
// answers and the failures until it is stopped.
type load struct {
	mu       sync.Mutex
	ok       int
	failures []string
	backends map[string]int
	last     string // the backend of the latest answer

	stop context.CancelFunc
	done chan struct{}
}

func startLoad(t *testing.T, url string, interval time.Duration) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{backends: map[string]int{}, stop: cancel, done: make(chan struct{})}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		defer close(l.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			start := time.Now()
			host, err := fetchHostname(c, url)
			l.mu.Lock()
			if err != nil {
				l.failures = append(l.failures, fmt.Sprintf("%s (+%v): %v", start.Format("15:04:05.000"), time.Since(start).Round(time.Millisecond), err))
			} else {
				l.ok++
				l.backends[host]++
				l.last = host
			}
			l.mu.Unlock()
		}
	}()
	t.Cleanup(cancel)
	return l
}

// answers is how many requests succeeded so far.
func (l *load) answers() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok
}

// result stops the load and returns what it saw.
func (l *load) result() (ok int, failures []string, backends map[string]int) {
	l.stop()
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok, l.failures, l.backends
}

// fetchHostname GETs url and returns the hostname berth-testapp answers with.
func fetchHostname(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("read body: %w", err)
	}
	var v struct{ Hostname string }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &v) != nil || v.Hostname == "" {
		return "", fmt.Errorf("status %d: %q", resp.StatusCode, body)
	}
	return v.Hostname, nil
}

// readyAddresses is the number of ready addresses of Endpoints ns/name ("" when absent).
func readyAddresses(t *testing.T, ctl *e2eutil.Berthctl, name string) (int, string) {
	t.Helper()
	r := ctl.Exec(t, "", "get", "endpoints", name, "-o", "json")
	var ep struct {
		Subsets []struct {
			Addresses []struct{ IP string }
		}
	}
	_ = json.Unmarshal([]byte(r.Stdout), &ep)
	n := 0
	for _, s := range ep.Subsets {
		n += len(s.Addresses)
	}
	return n, r.Stdout + r.Stderr
}

// TestServiceScaleDownLosesNoRequest sends a request every 20 ms through a Service's ClusterIP,
// from the host and from a client Pod, while its Deployment is scaled from 3 to 1: the
// removed Pods leave the Endpoints as they start terminating, the proxy stops sending them
// new connections, and they keep serving through their shutdown delay, so no request fails.
func TestServiceScaleDownLosesNoRequest(t *testing.T) {
	srv, ctl, _ := serviceServer(t)
	c := dial(t, srv.GRPCAddr)
	ctl.RunStdin(t, drainManifest+"---\n"+drainClient, "apply", "-f", "-")
	waitFor(t, 120*time.Second, "3 ready endpoints of drain", func() (bool, string) {
		n, out := readyAddresses(t, ctl, "drain")
		return n == 3, out
	})

	url := "http://" + serviceSpec(t, ctl, "drain").ClusterIP + "/"
	// The proxy learns of the endpoints within a second; wait until every backend answered.
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	seen := map[string]bool{}
	waitFor(t, 30*time.Second, "all three backends to answer on "+url, func() (bool, string) {
		host, err := fetchHostname(hc, url)
		if err == nil {
			seen[host] = true
		}
		return len(seen) == 3, fmt.Sprint(seen, err)
	})

	waitRunning(t, ctl, "client")
	// busybox's wget, until /tmp/stop exists: "ok" or "FAIL <time>" per request.
	inPod := ctl.Start(t, "exec", "client", "--", "sh", "-c", fmt.Sprintf(
		`while [ ! -e /tmp/stop ]; do if wget -qO- %s >/dev/null 2>&1; then echo ok; else echo "FAIL $(date +%%T)"; fi; sleep 0.02; done; echo end`, url))
	l := startLoad(t, url, 20*time.Millisecond)
	waitFor(t, 20*time.Second, "the loads to get answers", func() (bool, string) {
		fromPod := strings.Count(inPod.Stdout(), "ok\n")
		return l.answers() >= 50 && fromPod >= 20, fmt.Sprintf("%d from the host, %d from the Pod; %s", l.answers(), fromPod, inPod.Stderr())
	})
	ctl.Run(t, "scale", "deployment/drain", "--replicas=1")
	waitFor(t, 10*time.Second, "1 ready endpoint of drain", func() (bool, string) {
		n, out := readyAddresses(t, ctl, "drain")
		return n == 1, out
	})
	removedAt := time.Now()
	// The removed Pods are gone once their containers ended (after the shutdown delay);
	// requests go on until then and a little beyond.
	waitFor(t, 45*time.Second, "the removed Pods gone", func() (bool, string) {
		pods := selectedPods(t, c, "default", "app=drain")
		return len(pods) == 1, fmt.Sprint(len(pods), " pods")
	})
	before := l.answers()
	waitFor(t, 10*time.Second, "answers after the removed Pods are gone", func() (bool, string) {
		return l.answers() >= before+25, fmt.Sprint(l.answers() - before)
	})
	ok, failures, backends := l.result()
	ctl.Run(t, "exec", "client", "--", "touch", "/tmp/stop")
	inPod.WaitForOutput(t, "end\n", 20*time.Second)
	podOK, podFailed := strings.Count(inPod.Stdout(), "ok\n"), strings.Count(inPod.Stdout(), "FAIL")
	t.Logf("from the host %d requests answered (by %v), %d failed; from the Pod %d answered, %d failed; the removed Pods took %v to go",
		ok, backends, len(failures), podOK, podFailed, time.Since(removedAt).Round(time.Second))
	if podFailed > 0 {
		var failed []string
		for _, line := range strings.Split(inPod.Stdout(), "\n") {
			if strings.HasPrefix(line, "FAIL") {
				failed = append(failed, line)
			}
		}
		t.Errorf("%d of %d requests from the client Pod failed while scaling down:\n%s", podFailed, podOK+podFailed, strings.Join(failed, "\n"))
	}
	if len(failures) > 0 {
		t.Fatalf("%d of %d requests from the host failed while scaling down:\n%s", len(failures), ok+len(failures), strings.Join(failures, "\n"))
	}
	if len(backends) != 3 {
		t.Errorf("answers came from %v, want the three backends", backends)
	}
	// Only the remaining Pod answers now.
	remaining := selectedPods(t, c, "default", "app=drain")[0].GetMetadata().GetName()
	for range 5 {
		host, err := fetchHostname(hc, url)
		if err != nil || host != remaining {
			t.Fatalf("after scaling down: %q, %v; want %s", host, err, remaining)
		}
	}
}

// badServices are Services the apiserver must refuse, with Kubernetes' message for each; %s
// is replaced by the range's prefix ("10.x") and %d by a taken node port.
func badServices(prefix string, takenPort int) []struct{ name, manifest, want string } {
	svc := func(name, spec string) string {
		return fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\nspec:\n%s", name, spec)
	}
	return []struct{ name, manifest, want string }{{
		name: "clusterIP outside the range",
		manifest: svc("out-of-range", `  clusterIP: 192.0.2.10
  ports:
  - port: 80
`),
		want: `The Service "out-of-range" is invalid: spec.clusterIPs: Invalid value: []string{"192.0.2.10"}: failed to allocate IP 192.0.2.10: provided IP is not in the valid range. The range of valid IPs is ` + prefix + `.0.0/16`,
	}, {
		name: "clusterIP taken",
		manifest: svc("ip-taken", `  clusterIP: `+prefix+`.0.50
  ports:
  - port: 80
`),
		want: `The Service "ip-taken" is invalid: spec.clusterIPs: Invalid value: []string{"` + prefix + `.0.50"}: failed to allocate IP ` + prefix + `.0.50: provided IP is already allocated`,
	}, {
		name: "nodePort outside the range",
		manifest: svc("port-out-of-range", `  type: NodePort
  ports:
  - port: 80
    nodePort: 40000
`),
		want: `The Service "port-out-of-range" is invalid: spec.ports[0].nodePort: Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767`,
	}, {
		name: "nodePort taken",
		manifest: svc("port-taken", fmt.Sprintf(`  type: NodePort
  ports:
  - port: 80
    nodePort: %d
`, takenPort)),
		want: fmt.Sprintf(`The Service "port-taken" is invalid: spec.ports[0].nodePort: Invalid value: %d: provided port is already allocated`, takenPort),
	}}
}

// TestServiceBadInput creates Services with a clusterIP outside the range or taken and a
// nodePort outside the range or in use, through berthctl and the stock kubectl: each is
// refused with Kubernetes' message, and nothing is created.
func TestServiceBadInput(t *testing.T) {
	prefix := fmt.Sprintf("10.%d", 150+time.Now().Nanosecond()%100)
	srv := e2eutil.StartServer(t, e2eutil.ServerOptions{Args: []string{"--service-cluster-ip-range", prefix + ".0.0/16"}})
	ctl := srv.Berthctl(t)
	// The Service holding the IP and the node port the "taken" cases ask for.
	ctl.RunStdin(t, fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: holder
spec:
  type: NodePort
  clusterIP: %s.0.50
  ports:
  - port: 80
`, prefix), "apply", "-f", "-")
	taken := serviceSpec(t, ctl, "holder").Ports[0].NodePort
	if taken == 0 {
		t.Fatal("the holder Service got no nodePort")
	}
	kubectl := srv.Kubectl(t)
	for _, tc := range badServices(prefix, taken) {
		t.Run(tc.name, func(t *testing.T) {
			for _, cli := range []struct {
				name string
				run  func(stdin string, args ...string) e2eutil.Result
			}{
				{"berthctl", func(stdin string, args ...string) e2eutil.Result { return ctl.Exec(t, stdin, args...) }},
				{"kubectl", func(stdin string, args ...string) e2eutil.Result { return kubectl.Exec(t, stdin, args...) }},
			} {
				for _, verb := range []string{"create", "apply"} {
					r := cli.run(tc.manifest, verb, "-f", "-")
					if r.ExitCode == 0 || !strings.Contains(r.Stderr, tc.want) {
						t.Errorf("%s %s: exit %d\nstdout: %s\nstderr: %s\nwant in stderr: %s", cli.name, verb, r.ExitCode, r.Stdout, r.Stderr, tc.want)
					}
				}
			}
		})
	}
	t.Run("an update to a nodePort in use", func(t *testing.T) {
		other := `apiVersion: v1
kind: Service
metadata:
  name: other
spec:
  type: NodePort
  ports:
  - port: 80
`
		kubectl.RunStdin(t, other, "apply", "-f", "-")
		own := serviceSpec(t, ctl, "other").Ports[0].NodePort
		r := kubectl.Exec(t, other+fmt.Sprintf("    nodePort: %d\n", taken), "apply", "-f", "-")
		want := fmt.Sprintf(`The Service "other" is invalid: spec.ports[0].nodePort: Invalid value: %d: provided port is already allocated`, taken)
		if r.ExitCode == 0 || !strings.Contains(r.Stderr, want) {
			t.Errorf("kubectl apply: exit %d\nstdout: %s\nstderr: %s\nwant in stderr: %s", r.ExitCode, r.Stdout, r.Stderr, want)
		}
		// The refused update kept its own port, still allocated.
		if now := serviceSpec(t, ctl, "other").Ports[0].NodePort; now != own {
			t.Errorf("nodePort of other %d after the refused update, want %d", now, own)
		}
		third := strings.Replace(other, "name: other", "name: third", 1) + fmt.Sprintf("    nodePort: %d\n", own)
		if r := ctl.Exec(t, third, "create", "-f", "-"); r.ExitCode == 0 || !strings.Contains(r.Stderr, "provided port is already allocated") {
			t.Errorf("a Service asking for other's port %d: exit %d\n%s%s", own, r.ExitCode, r.Stdout, r.Stderr)
		}
		ctl.Run(t, "delete", "service", "other")
	})
	// None of them exists, and the holder kept its IP and port.
	var list struct {
		Items []struct{ Metadata struct{ Name string } }
	}
	getJSON(t, ctl, &list, "get", "services")
	for _, it := range list.Items {
		if n := it.Metadata.Name; n != "holder" && n != "kubernetes" {
			t.Errorf("service %s exists after its refusal", n)
		}
	}
	if spec := serviceSpec(t, ctl, "holder"); spec.ClusterIP != prefix+".0.50" || spec.Ports[0].NodePort != taken {
		t.Errorf("holder now %+v", spec)
	}
}

// TestServiceUnresolvedTargetPortEvent gives a Service a targetPort name that no container of
// its Pod has: the Service has no endpoints, and berthctl and the stock kubectl show the
// endpoints service's Warning Event on it.
func TestServiceUnresolvedTargetPortEvent(t *testing.T) {
	srv, ctl, _ := serviceServer(t)
	manifest := strings.Replace(drainManifest, "replicas: 3", "replicas: 1", 1)
	manifest = strings.Replace(manifest, "targetPort: http", "targetPort: htp", 1)
	ctl.RunStdin(t, manifest, "apply", "-f", "-")
	const want = `Service port "http" (80/TCP) has targetPort "htp", but no container of any selected Pod has a TCP port of that name: the port has no endpoints`
	waitFor(t, 90*time.Second, "the FailedToResolvePort event", func() (bool, string) {
		out := ctl.Run(t, "get", "events")
		return strings.Contains(out, "FailedToResolvePort") && strings.Contains(out, want), out
	})
	kubectl := srv.Kubectl(t)
	out := kubectl.Run(t, "describe", "service", "drain")
	if !regexp.MustCompile(`Warning\s+FailedToResolvePort\s+.*endpoint-controller\s+` + regexp.QuoteMeta(want)).MatchString(out) {
		t.Errorf("kubectl describe service drain shows no FailedToResolvePort event:\n%s", out)
	}
	if n, out := readyAddresses(t, ctl, "drain"); n != 0 {
		t.Errorf("%d ready endpoints, want none:\n%s", n, out)
	}
	// Fixing the name gives the Service its endpoint.
	ctl.RunStdin(t, strings.Replace(manifest, "targetPort: htp", "targetPort: http", 1), "apply", "-f", "-")
	waitFor(t, 30*time.Second, "1 ready endpoint of drain", func() (bool, string) {
		n, out := readyAddresses(t, ctl, "drain")
		return n == 1, out
	})
}
