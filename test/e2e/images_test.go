//go:build e2e

package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/e2e/e2eutil"
)

// These tests check the images `make images` builds against what DESIGN.md promises of them.

func TestPauseImage(t *testing.T) {
	e2eutil.RequireImages(t, "berth-pause:latest", "berth-shell:latest")

	t.Run("exits 0 on SIGTERM", func(t *testing.T) {
		id := e2eutil.RunContainer(t, "berth-pause:latest")
		start := time.Now()
		e2eutil.Docker(t, "stop", "--time", "20", id)
		if code := e2eutil.WaitContainerExit(t, id, 10*time.Second); code != 0 {
			t.Errorf("exit code after docker stop = %d, want 0", code)
		}
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("docker stop took %v: pause waited for SIGKILL instead of exiting on SIGTERM", took)
		}
	})

	t.Run("reaps orphans as PID 1", func(t *testing.T) {
		pause := e2eutil.RunContainer(t, "berth-pause:latest")
		// Two sleeps started in a container sharing pause's PID namespace are killed when their
		// container ends; they are reparented to pause, which must reap them.
		e2eutil.Docker(t, "run", "--rm", "--pid", "container:"+pause, "berth-shell:latest",
			"sh", "-c", "sleep 60 & sleep 60 & echo started")
		deadline := time.Now().Add(10 * time.Second)
		for {
			ps := e2eutil.Docker(t, "run", "--rm", "--pid", "container:"+pause, "berth-shell:latest",
				"ps", "-o", "pid,stat,comm")
			if !strings.Contains(ps, " Z ") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("zombies in pause's PID namespace after 10s:\n%s", ps)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}

func TestTestappImage(t *testing.T) {
	e2eutil.RequireImages(t, "berth-testapp:latest", "berth-shell:latest")
	id := e2eutil.RunContainer(t, "-e", "UDP_PORT=9000", "-e", "GREETING=hi", "berth-testapp:latest")
	ip := e2eutil.ContainerIP(t, id)
	base := "http://" + ip + ":8080"
	waitHTTP(t, base+"/healthz", http.StatusOK)

	var info struct {
		Hostname string            `json:"hostname"`
		PodIP    string            `json:"podIP"`
		Env      map[string]string `json:"env"`
	}
	if err := json.Unmarshal([]byte(get(t, base+"/")), &info); err != nil {
		t.Fatalf("GET / is not JSON: %v", err)
	}
	if info.PodIP != ip || info.Hostname == "" || info.Env["GREETING"] != "hi" {
		t.Errorf("GET / = %+v, want podIP %s, a hostname and env GREETING=hi", info, ip)
	}

	// From another container, with berth-shell's wget; and the UDP echo with testapp's client.
	if out := e2eutil.Docker(t, "run", "--rm", "berth-shell:latest", "wget", "-qO-", base+"/healthz"); out != "ok" {
		t.Errorf("wget /healthz from berth-shell = %q, want ok", out)
	}
	if out := e2eutil.Docker(t, "run", "--rm", "berth-testapp:latest", "udp", ip+":9000", "ping"); out != "ping" {
		t.Errorf("udp echo = %q, want ping", out)
	}

	post(t, base+"/fail")
	waitHTTP(t, base+"/healthz", http.StatusInternalServerError)

	e2eutil.Docker(t, "stop", "--time", "20", id)
	if code := e2eutil.WaitContainerExit(t, id, 10*time.Second); code != 0 {
		t.Errorf("exit code after docker stop = %d, want 0", code)
	}
	logs := e2eutil.Docker(t, "logs", id)
	for _, want := range []string{"path=/healthz", `msg="received SIGTERM"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}

	t.Run("POST /exit", func(t *testing.T) {
		id := e2eutil.RunContainer(t, "berth-testapp:latest")
		base := "http://" + e2eutil.ContainerIP(t, id) + ":8080"
		waitHTTP(t, base+"/healthz", http.StatusOK)
		post(t, base+"/exit?code=3")
		if code := e2eutil.WaitContainerExit(t, id, 10*time.Second); code != 3 {
			t.Errorf("exit code after POST /exit?code=3 = %d, want 3", code)
		}
	})
}

func TestShellImage(t *testing.T) {
	e2eutil.RequireImages(t, "berth-shell:latest")
	out := e2eutil.Docker(t, "run", "--rm", "berth-shell:latest", "sh", "-c",
		"for a in sh wget nslookup ls cat sleep echo ps; do command -v $a || echo missing $a; done")
	if strings.Contains(out, "missing") {
		t.Errorf("applets missing from berth-shell:\n%s", out)
	}
}

func TestBerthImage(t *testing.T) {
	e2eutil.RequireImages(t, "berth:latest")
	// The image's default command is the whole control plane, listening on all addresses.
	id := e2eutil.RunContainer(t, "berth:latest")
	waitHTTP(t, "http://"+e2eutil.ContainerIP(t, id)+":8080/readyz", http.StatusOK)
	e2eutil.Docker(t, "stop", "--time", "30", id)
	if code := e2eutil.WaitContainerExit(t, id, 10*time.Second); code != 0 {
		t.Errorf("exit code after docker stop = %d, want 0", code)
	}
}

// waitHTTP waits up to 30s for GET url to answer want.
func waitHTTP(t *testing.T, url string, want int) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	last := "no answer"
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s: %s after 30s, want %d", url, last, want)
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", url, resp.Status, err)
	}
	return string(body)
}

func post(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Post(url, "text/plain", nil)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s", url, resp.Status)
	}
}
