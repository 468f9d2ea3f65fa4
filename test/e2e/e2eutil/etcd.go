package e2eutil

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// StartEtcd starts a one-member etcd cluster (the etcd binary of Debian's etcd-server package,
// or $ETCD_BIN) on free ports with a fresh data directory, waits until it is healthy, and
// returns its client URL for --etcd-endpoints. It is stopped when the test ends. Without an
// etcd binary the test is Unavailable.
func StartEtcd(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("ETCD_BIN")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("etcd"); err != nil {
			Unavailable(t, "no etcd binary: install Debian's etcd-server package or set ETCD_BIN")
		}
	}
	client, peer := "http://"+FreeAddr(t), "http://"+FreeAddr(t)
	p := StartProcess(t, bin, []string{
		"--name", "e2e",
		"--data-dir", filepath.Join(t.TempDir(), "etcd"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "e2e=" + peer, "--initial-cluster-state", "new",
	}, ProcessOptions{Combined: true})
	t.Cleanup(func() {
		_ = p.Signal(syscall.SIGTERM)
		select {
		case <-p.Done():
		case <-time.After(DefaultStopTimeout):
		}
		if t.Failed() {
			t.Logf("etcd log:\n%s", tail(p.Stdout(), 100))
		}
	})
	if err := waitEtcdHealthy(p, client+"/health", DefaultReadyTimeout); err != nil {
		t.Fatalf("%v; log:\n%s", err, tail(p.Stdout(), 100))
	}
	return client
}

func waitEtcdHealthy(p *Process, url string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	last := "no answer yet"
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			cancel()
			return fmt.Errorf("GET %s: %w", url, err)
		}
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"health":"true"`) {
				cancel()
				return nil
			}
			last = fmt.Sprintf("%s %s", resp.Status, strings.TrimSpace(string(body)))
		} else {
			last = err.Error()
		}
		cancel()
		select {
		case <-p.Done():
			return fmt.Errorf("etcd exited (%v) before it was healthy", p.err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("etcd not healthy within %v: GET %s: %s", timeout, url, last)
}
