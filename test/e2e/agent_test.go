//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/e2e/e2eutil"
)

// These tests run `berth server --agent` on the real Docker Engine: the Pods below are bound
// to the agent's Node in their manifests (spec.nodeName), so nothing but the agent places them.

// agentServer starts berth server with an in-process agent on Docker under a Node name of its
// own, and removes whatever the agent left in Docker when the test ends.
func agentServer(t *testing.T) (*e2eutil.Server, *e2eutil.Berthctl, string) {
	t.Helper()
	e2eutil.RequireImages(t, "berth-pause:latest", "berth-testapp:latest", "berth-shell:latest")
	node := fmt.Sprintf("e2e-agent-%d", rand.IntN(1e6))
	// Registered before the server starts, so that it runs after the server has stopped
	// (cleanups run last in, first out): a running agent would re-create what it removes.
	removeAgentContainers(t, node)
	srv := e2eutil.StartServer(t, e2eutil.ServerOptions{Args: []string{
		"--agent", "--runtime", "docker", "--node-name", node, "--agent-addr", e2eutil.FreeAddr(t),
	}})
	ctl := srv.Berthctl(t)
	waitNodeReady(t, ctl, node)
	return srv, ctl, node
}

// removeAgentContainers removes, when the test ends, whatever the agent of node left in Docker.
func removeAgentContainers(t *testing.T, node string) {
	t.Cleanup(func() {
		ids, _ := e2eutil.DockerErr("ps", "-aq", "--filter", "label=io.berth.node="+node)
		for _, id := range strings.Fields(ids) {
			_, _ = e2eutil.DockerErr("rm", "-f", "-v", id)
		}
	})
}

func waitNodeReady(t *testing.T, ctl *e2eutil.Berthctl, node string) {
	t.Helper()
	waitFor(t, 60*time.Second, "node "+node+" Ready", func() (bool, string) {
		r := ctl.Exec(t, "", "get", "node", node, "-o", "json")
		if r.ExitCode != 0 {
			return false, r.Stderr
		}
		var n struct {
			Status struct {
				Conditions []struct{ Type, Status string }
			}
		}
		_ = json.Unmarshal([]byte(r.Stdout), &n)
		for _, c := range n.Status.Conditions {
			if c.Type == "Ready" && c.Status == "True" {
				return true, ""
			}
		}
		return false, r.Stdout
	})
}

// waitFor polls cond every 250 ms until it holds, failing the test after timeout with the last
// thing cond said.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last:\n%s", what, timeout, last)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// podState is the part of a Pod these tests read.
type podState struct {
	Metadata struct{ UID string }
	Status   struct {
		Phase             string
		PodIP             string `json:"podIP"`
		ContainerStatuses []struct {
			Name, ContainerID string
			Ready             bool
			RestartCount      int
			State             struct {
				Waiting *struct{ Reason, Message string }
				Running *struct{}
			}
		}
	}
}

func getPod(t *testing.T, ctl *e2eutil.Berthctl, name string) (podState, bool) {
	t.Helper()
	r := ctl.Exec(t, "", "get", "pod", name, "-o", "json")
	var p podState
	if r.ExitCode != 0 {
		return p, false
	}
	if err := json.Unmarshal([]byte(r.Stdout), &p); err != nil {
		t.Fatalf("pod %s: %v\n%s", name, err, r.Stdout)
	}
	return p, true
}

func waitRunning(t *testing.T, ctl *e2eutil.Berthctl, name string) podState {
	t.Helper()
	var p podState
	waitFor(t, 60*time.Second, "pod "+name+" Running with an IP", func() (bool, string) {
		var ok bool
		p, ok = getPod(t, ctl, name)
		running := ok && p.Status.Phase == "Running" && p.Status.PodIP != ""
		for _, cs := range p.Status.ContainerStatuses {
			running = running && cs.State.Running != nil
		}
		return running, fmt.Sprintf("%+v", p.Status)
	})
	return p
}

// dockerContainers lists the ids of the containers (sandbox included) of a Pod, sorted.
func dockerContainers(t *testing.T, uid string) []string {
	t.Helper()
	ids := strings.Fields(e2eutil.Docker(t, "ps", "-aq", "--no-trunc", "--filter", "label=io.berth.pod.uid="+uid))
	slices.Sort(ids)
	return ids
}

func twoContainerPod(node string) string {
	return `apiVersion: v1
kind: Pod
metadata:
  name: duo
spec:
  nodeName: ` + node + `
  terminationGracePeriodSeconds: 10
  volumes:
    - name: shared
      emptyDir: {}
  containers:
    - name: app
      image: berth-testapp:latest
      env:
        - name: PORT
          value: "8080"
    - name: side
      image: berth-shell:latest
      command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
      volumeMounts:
        - name: shared
          mountPath: /data
    - name: other
      image: berth-shell:latest
      command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
      volumeMounts:
        - name: shared
          mountPath: /data
`
}

func TestAgentPodOnDocker(t *testing.T) {
	srv, ctl, node := agentServer(t)
	ctl.RunStdin(t, twoContainerPod(node), "apply", "-f", "-")
	pod := waitRunning(t, ctl, "duo")

	// Every container of the Pod is a Docker container labelled with the Pod, plus the sandbox.
	before := dockerContainers(t, pod.Metadata.UID)
	if len(before) != 4 {
		t.Fatalf("docker containers of the pod: %v, want 4 (pause, app, side, other)", before)
	}

	t.Run("localhost, hostname and emptyDir are shared", func(t *testing.T) {
		out := ctl.Run(t, "exec", "duo", "-c", "side", "--", "wget", "-qO-", "http://localhost:8080/")
		var got struct{ Hostname string }
		if err := json.Unmarshal([]byte(out), &got); err != nil || got.Hostname != "duo" {
			t.Errorf("testapp on localhost answered %q (%v), want hostname duo", out, err)
		}
		for _, c := range []string{"side", "other"} {
			if h := strings.TrimSpace(ctl.Run(t, "exec", "duo", "-c", c, "--", "hostname")); h != "duo" {
				t.Errorf("hostname in %s = %q, want duo", c, h)
			}
		}
		ctl.Run(t, "exec", "duo", "-c", "side", "--", "sh", "-c", "echo shared > /data/file")
		if got := strings.TrimSpace(ctl.Run(t, "exec", "duo", "-c", "other", "--", "cat", "/data/file")); got != "shared" {
			t.Errorf("the other container read %q from the emptyDir", got)
		}
	})

	t.Run("exec passes stdin and the exit code", func(t *testing.T) {
		if out := ctl.RunStdin(t, "hello\n", "exec", "-i", "duo", "-c", "side", "--", "cat"); out != "hello\n" {
			t.Errorf("exec -i cat: %q", out)
		}
		r := ctl.Exec(t, "", "exec", "duo", "-c", "side", "--", "sh", "-c", "echo oops >&2; exit 3")
		if r.ExitCode != 3 || !strings.Contains(r.Stderr, "oops") || !strings.Contains(r.Stderr, "command terminated with exit code 3") {
			t.Errorf("exec exit 3: %+v", r)
		}
	})

	t.Run("logs -f follows", func(t *testing.T) {
		logs := ctl.Start(t, "logs", "-f", "duo", "-c", "app")
		ctl.Run(t, "exec", "duo", "-c", "side", "--", "wget", "-qO-", "http://localhost:8080/followed")
		logs.WaitForOutput(t, "/followed", 20*time.Second)
		if out := ctl.Run(t, "logs", "duo", "-c", "app", "--tail", "1"); strings.Count(out, "\n") != 1 {
			t.Errorf("logs --tail 1: %q", out)
		}
		_ = logs.Signal(syscall.SIGINT)
	})

	t.Run("kill -9 and restart adopts, no duplicates", func(t *testing.T) {
		srv.Kill(t)
		srv.Restart(t)
		time.Sleep(5 * time.Second) // a few sync rounds of the restarted agent
		waitRunning(t, ctl, "duo")
		if after := dockerContainers(t, pod.Metadata.UID); !slices.Equal(after, before) {
			t.Errorf("containers after the restart %v, want the same as before %v", after, before)
		}
	})

	t.Run("delete: SIGTERM, then gone from Docker and the API", func(t *testing.T) {
		logs := ctl.Start(t, "logs", "-f", "duo", "-c", "app")
		time.Sleep(time.Second) // the follow is established
		ctl.Run(t, "delete", "pod", "duo")
		logs.WaitForOutput(t, "received SIGTERM", 30*time.Second)
		waitFor(t, 60*time.Second, "pod duo gone", func() (bool, string) {
			_, found := getPod(t, ctl, "duo")
			ids := dockerContainers(t, pod.Metadata.UID)
			return !found && len(ids) == 0, fmt.Sprintf("pod found %v, containers %v", found, ids)
		})
	})
}

func TestAgentMissingImage(t *testing.T) {
	_, ctl, node := agentServer(t)
	ctl.RunStdin(t, `apiVersion: v1
kind: Pod
metadata:
  name: nope
spec:
  nodeName: `+node+`
  containers:
    - name: app
      image: berth-e2e-does-not-exist:v0
`, "apply", "-f", "-")
	waitFor(t, 90*time.Second, "ImagePullBackOff", func() (bool, string) {
		p, _ := getPod(t, ctl, "nope")
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil && w.Reason == "ImagePullBackOff" {
				return w.Message != "", ""
			}
		}
		return false, fmt.Sprintf("%+v", p.Status)
	})
	// The agent keeps serving: the Node stays Ready and the Pod goes on delete.
	ctl.Run(t, "delete", "pod", "nope")
	waitFor(t, 60*time.Second, "pod nope gone", func() (bool, string) {
		_, found := getPod(t, ctl, "nope")
		return !found, ""
	})
}

// TestAgentProcess runs `berth agent` as its own process next to `berth server`, and kills it.
func TestAgentProcess(t *testing.T) {
	e2eutil.RequireImages(t, "berth-pause:latest", "berth-testapp:latest")
	node := fmt.Sprintf("e2e-agent-%d", rand.IntN(1e6))
	srv := e2eutil.StartServer(t, e2eutil.ServerOptions{})
	ctl := srv.Berthctl(t)
	removeAgentContainers(t, node)
	args := []string{"agent", "--server", srv.GRPCAddr, "--node-name", node, "--runtime", "docker",
		"--root-dir", t.TempDir(), "--agent-addr", e2eutil.FreeAddr(t), "--http-addr", e2eutil.FreeAddr(t)}
	var agent *e2eutil.Process
	start := func() {
		agent = e2eutil.StartProcess(t, e2eutil.Binary(t, "berth"), args, e2eutil.ProcessOptions{Combined: true})
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("berth agent log:\n%s", agent.Stdout())
		}
	})
	start()
	waitNodeReady(t, ctl, node)

	ctl.RunStdin(t, `apiVersion: v1
kind: Pod
metadata:
  name: solo
spec:
  nodeName: `+node+`
  terminationGracePeriodSeconds: 5
  containers:
    - name: app
      image: berth-testapp:latest
`, "apply", "-f", "-")
	pod := waitRunning(t, ctl, "solo")
	before := dockerContainers(t, pod.Metadata.UID)
	if len(before) != 2 {
		t.Fatalf("docker containers of the pod: %v, want 2 (pause, app)", before)
	}

	// kill -9: the containers run on; the restarted agent adopts them.
	if err := agent.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = agent.Wait(t, 10*time.Second)
	if running := strings.Fields(e2eutil.Docker(t, "ps", "-q", "--no-trunc", "--filter", "label=io.berth.pod.uid="+pod.Metadata.UID)); len(running) != 2 {
		t.Errorf("running containers while the agent is down: %v", running)
	}
	start()
	time.Sleep(5 * time.Second) // a few sync rounds of the restarted agent
	waitRunning(t, ctl, "solo")
	if after := dockerContainers(t, pod.Metadata.UID); !slices.Equal(after, before) {
		t.Errorf("containers after the restart %v, want the same as before %v", after, before)
	}
	if out := ctl.Run(t, "logs", "solo"); !strings.Contains(out, "listening") {
		t.Errorf("logs through the restarted agent: %q", out)
	}

	ctl.Run(t, "delete", "pod", "solo")
	waitFor(t, 60*time.Second, "pod solo gone", func() (bool, string) {
		_, found := getPod(t, ctl, "solo")
		ids := dockerContainers(t, pod.Metadata.UID)
		return !found && len(ids) == 0, fmt.Sprintf("pod found %v, containers %v", found, ids)
	})

	// SIGTERM ends the agent cleanly.
	if err := agent.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := agent.Wait(t, 30*time.Second); err != nil {
		t.Errorf("berth agent after SIGTERM: %v", err)
	}
}
