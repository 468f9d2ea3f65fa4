package gateway

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/berth-dev/berth/services/apiserver/apiservertest"
)

func TestRun(t *testing.T) {
	addr := apiservertest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Server: addr, HTTPAddr: "127.0.0.1:0", Started: func(a string) { started <- a }})
	}()
	var base string
	select {
	case a := <-started:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not started after 10s")
	}
	for path, want := range map[string]int{
		"/readyz": 200, "/healthz": 200, "/metrics": 200, "/api/v1/namespaces/default": 200,
		"/version": 200, "/apis": 200, "/api/v1/nope": 404,
	} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestRunNeedsServer(t *testing.T) {
	if err := Run(context.Background(), Config{HTTPAddr: "127.0.0.1:0"}); err == nil {
		t.Error("Run without --server succeeded")
	}
}
