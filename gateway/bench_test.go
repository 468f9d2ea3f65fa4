package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// The gateway's own cost: the same read through REST and through gRPC, against the same
// apiserver. (make bench measures the whole system; these isolate the gateway.) The gateway
// calls the apiserver in process, as in `berth server`; gRPC clients dial it over TCP.

// grpcClient dials the apiserver over TCP, as a gRPC client in another process does.
func grpcClient(b *testing.B, e *env) *client.Client {
	b.Helper()
	c, err := client.Dial(context.Background(), e.grpcAddr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

func benchGet(b *testing.B, e *env, path string) {
	b.Helper()
	for b.Loop() {
		resp, err := http.Get(e.url + path)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%d", resp.StatusCode)
		}
	}
}

// startBench starts a gateway and creates n Pods in the default namespace.
func startBench(b *testing.B, n int) *env {
	b.Helper()
	e := start(b)
	for i := range n {
		resp, err := http.Post(e.url+podsPath, "application/json", strings.NewReader(podJSON(fmt.Sprintf("p%d", i), "app", "bench")))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("create: %d", resp.StatusCode)
		}
	}
	return e
}

func BenchmarkGetPod(b *testing.B) {
	e := startBench(b, 1)
	b.Run("REST", func(b *testing.B) { benchGet(b, e, podsPath+"/p0") })
	b.Run("gRPC", func(b *testing.B) {
		pods := grpcClient(b, e).Resource(scheme.Pods)
		for b.Loop() {
			if _, err := pods.Get(context.Background(), "default", "p0"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkList1kPods(b *testing.B) {
	e := startBench(b, 1000)
	b.Run("REST", func(b *testing.B) { benchGet(b, e, podsPath) })
	b.Run("gRPC", func(b *testing.B) {
		pods := grpcClient(b, e).Resource(scheme.Pods)
		for b.Loop() {
			if _, _, err := pods.List(context.Background(), &metav1.ListOptions{Namespace: "default"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCreatePod(b *testing.B) {
	e := startBench(b, 0)
	n := 0
	create := func(b *testing.B, name string) {
		b.Helper()
		resp, err := http.Post(e.url+podsPath, "application/json", strings.NewReader(podJSON(name, "app", "bench")))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("%d", resp.StatusCode)
		}
	}
	b.Run("REST", func(b *testing.B) {
		for b.Loop() {
			n++
			create(b, fmt.Sprintf("c%d", n))
		}
	})
	b.Run("gRPC", func(b *testing.B) {
		pods := grpcClient(b, e).Resource(scheme.Pods)
		for b.Loop() {
			n++
			pod := &corev1.Pod{
				Metadata: &metav1.ObjectMeta{Name: fmt.Sprintf("c%d", n), Namespace: "default"},
				Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c", Image: "nginx"}}},
			}
			if _, err := pods.Create(context.Background(), pod); err != nil {
				b.Fatal(err)
			}
		}
	})
}
