//go:build e2e

package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/e2e/e2eutil"
)

// Services (issue 7): the agent's service proxy and cluster DNS on the real Docker Engine,
// behind Deployments run by the real controllers and Endpoints from the endpoints service.

// serviceServer starts berth server with an agent on Docker whose proxy owns a service range
// of the test's own (so that it never touches another test's addresses on lo).
func serviceServer(t *testing.T) (*e2eutil.Server, *e2eutil.Berthctl, string) {
	t.Helper()
	e2eutil.RequireImages(t, "berth-pause:latest", "berth-testapp:latest", "berth-shell:latest")
	node := fmt.Sprintf("e2e-svc-%d", rand.IntN(1e6))
	svcRange := fmt.Sprintf("10.%d.0.0/16", 150+rand.IntN(100))
	// Registered before the server starts, so that it runs after the server has stopped
	// (cleanups run last in, first out): a running agent would re-create what it removes.
	removeAgentContainers(t, node)
	srv := e2eutil.StartServer(t, e2eutil.ServerOptions{Args: []string{
		"--agent", "--runtime", "docker", "--node-name", node, "--agent-addr", e2eutil.FreeAddr(t),
		"--service-cluster-ip-range", svcRange,
	}})
	ctl := srv.Berthctl(t)
	waitNodeReady(t, ctl, node)
	return srv, ctl, node
}

const servicesManifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: web
        image: berth-testapp:latest
        env:
        - name: UDP_PORT
          value: "9000"
        ports:
        - name: http
          containerPort: 8080
        - name: echo
          containerPort: 9000
          protocol: UDP
        readinessProbe:
          httpGet:
            path: /healthz
            port: 8080
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: http
  - name: echo
    port: 9000
    protocol: UDP
    targetPort: echo
---
apiVersion: v1
kind: Service
metadata:
  name: sticky
spec:
  selector:
    app: web
  sessionAffinity: ClientIP
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web-np
spec:
  type: NodePort
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: nobody
spec:
  selector:
    app: nobody
  ports:
  - port: 80
---
apiVersion: v1
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

func TestServices(t *testing.T) {
	_, ctl, _ := serviceServer(t)
	ctl.RunStdin(t, servicesManifest, "apply", "-f", "-")

	waitFor(t, 120*time.Second, "3 ready endpoints of web", func() (bool, string) {
		r := ctl.Exec(t, "", "get", "endpoints", "web", "-o", "json")
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
		return n == 3, r.Stdout + r.Stderr
	})
	waitFor(t, 60*time.Second, "the client Pod Running", func() (bool, string) {
		r := ctl.Exec(t, "", "get", "pod", "client", "-o", "json")
		var p struct{ Status struct{ Phase string } }
		_ = json.Unmarshal([]byte(r.Stdout), &p)
		return p.Status.Phase == "Running", r.Stdout + r.Stderr
	})

	// hostnames fetches url n times from the client Pod and returns the backends' hostnames.
	hostnames := func(t *testing.T, url string, n int) map[string]int {
		t.Helper()
		script := fmt.Sprintf(`for i in $(seq %d); do wget -qO- %s || echo '{"hostname":"FAILED"}'; done`, n, url)
		out := ctl.Run(t, "exec", "client", "--", "sh", "-c", script)
		seen := map[string]int{}
		dec := json.NewDecoder(strings.NewReader(out))
		for {
			var resp struct{ Hostname string }
			err := dec.Decode(&resp)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil || resp.Hostname == "" || resp.Hostname == "FAILED" {
				t.Fatalf("from %s: %v in\n%s", url, err, out)
			}
			seen[resp.Hostname]++
		}
		if total := len(seen); total == 0 {
			t.Fatalf("no answer from %s:\n%s", url, out)
		}
		return seen
	}

	t.Run("round robin through the cluster DNS name", func(t *testing.T) {
		var seen map[string]int
		// The proxy learns of the endpoints within a second; wait for the first answer.
		waitFor(t, 30*time.Second, "web.default.svc.cluster.local to answer", func() (bool, string) {
			r := ctl.Exec(t, "", "exec", "client", "--", "wget", "-qO-", "http://web.default.svc.cluster.local")
			return r.ExitCode == 0, r.Stdout + r.Stderr
		})
		seen = hostnames(t, "http://web.default.svc.cluster.local", 30)
		if len(seen) != 3 {
			t.Fatalf("30 requests reached %v, want all three backends", seen)
		}
		// The search path of ClusterFirst Pods resolves the short name too.
		if short := hostnames(t, "http://web", 3); len(short) == 0 {
			t.Fatal("the short name web did not resolve")
		}
	})

	t.Run("ClientIP affinity", func(t *testing.T) {
		seen := hostnames(t, "http://sticky.default.svc.cluster.local", 15)
		if len(seen) != 1 {
			t.Fatalf("15 requests with ClientIP affinity reached %v, want one backend", seen)
		}
	})

	t.Run("UDP echo", func(t *testing.T) {
		var pods struct {
			Items []struct{ Metadata struct{ Name string } }
		}
		getJSON(t, ctl, &pods, "get", "pods", "-l", "app=web")
		if len(pods.Items) == 0 {
			t.Fatal("no web Pods")
		}
		out := ctl.Run(t, "exec", pods.Items[0].Metadata.Name, "--", "/testapp", "udp", "web.default.svc.cluster.local:9000", "hello-udp")
		if !strings.Contains(out, "hello-udp") {
			t.Fatalf("udp echo through the Service: %q", out)
		}
	})

	t.Run("NodePort from the host", func(t *testing.T) {
		np := serviceSpec(t, ctl, "web-np").Ports[0].NodePort
		url := fmt.Sprintf("http://127.0.0.1:%d/", np)
		c := http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"hostname"`) {
			t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
		}
	})

	t.Run("a Service without endpoints refuses at once", func(t *testing.T) {
		ip := serviceSpec(t, ctl, "nobody").ClusterIP
		var err error
		waitFor(t, 10*time.Second, "the ClusterIP "+ip+" on lo", func() (bool, string) {
			start := time.Now()
			var c net.Conn
			c, err = net.DialTimeout("tcp", net.JoinHostPort(ip, "80"), 3*time.Second)
			if c != nil {
				c.Close()
			}
			return errors.Is(err, syscall.ECONNREFUSED) && time.Since(start) < time.Second, fmt.Sprint(err, time.Since(start))
		})
		start := time.Now()
		r := ctl.Exec(t, "", "exec", "client", "--", "wget", "-qO-", "http://nobody.default.svc.cluster.local")
		if r.ExitCode == 0 || time.Since(start) > 5*time.Second {
			t.Fatalf("wget of a Service without endpoints: exit %d after %v: %s%s", r.ExitCode, time.Since(start), r.Stdout, r.Stderr)
		}
	})

	t.Run("nslookup of a Service and an unknown name", func(t *testing.T) {
		ip := serviceSpec(t, ctl, "web").ClusterIP
		out := ctl.Run(t, "exec", "client", "--", "nslookup", "web.default.svc.cluster.local")
		if !strings.Contains(out, ip) {
			t.Fatalf("nslookup web: %s, want %s", out, ip)
		}
		r := ctl.Exec(t, "", "exec", "client", "--", "nslookup", "nothing-here.default.svc.cluster.local")
		if r.ExitCode == 0 {
			t.Fatalf("nslookup of an unknown name succeeded: %s", r.Stdout)
		}
	})
}

// getJSON decodes the JSON output of berthctl args -o json into v.
func getJSON(t *testing.T, ctl *e2eutil.Berthctl, v any, args ...string) {
	t.Helper()
	out := ctl.Run(t, append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("berthctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// serviceSpec is the spec of Service name in default.
func serviceSpec(t *testing.T, ctl *e2eutil.Berthctl, name string) (spec struct {
	ClusterIP string
	Ports     []struct{ Port, NodePort int }
}) {
	t.Helper()
	var svc struct{ Spec json.RawMessage }
	getJSON(t, ctl, &svc, "get", "service", name)
	if err := json.Unmarshal(svc.Spec, &spec); err != nil {
		t.Fatalf("service %s: %v", name, err)
	}
	return spec
}
