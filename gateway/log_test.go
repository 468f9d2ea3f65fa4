package gateway

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"google.golang.org/grpc"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// fakeAgent serves the Log call of a Node's agent: two chunks, and a record of the request.
type fakeAgent struct {
	corev1.UnimplementedPodServiceServer
	mu  sync.Mutex
	req *corev1.PodLogRequest
}

func (a *fakeAgent) Log(req *corev1.PodLogRequest, stream grpc.ServerStreamingServer[corev1.PodLogChunk]) error {
	a.mu.Lock()
	a.req = req
	a.mu.Unlock()
	for _, s := range []string{"line 1\n", "line 2\n"} {
		if err := stream.Send(&corev1.PodLogChunk{Data: []byte(s)}); err != nil {
			return err
		}
	}
	return nil
}

func startFakeAgent(t *testing.T) (*fakeAgent, int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &fakeAgent{}
	s := grpc.NewServer()
	corev1.RegisterPodServiceServer(s, a)
	go func() { _ = s.Serve(l) }()
	t.Cleanup(s.Stop)
	return a, l.Addr().(*net.TCPAddr).Port
}

func TestPodLog(t *testing.T) {
	e := start(t)
	agent, port := startFakeAgent(t)
	node := `{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"},"status":{"addresses":[{"type":"InternalIP","address":"127.0.0.1"}],"daemonEndpoints":{"kubeletEndpoint":{"Port":` + strconv.Itoa(port) + `}}}}`
	if r := e.post(t, "/api/v1/nodes", node); r.code != http.StatusCreated {
		t.Fatalf("create node: %d %s", r.code, r.body)
	}
	if r := e.put(t, "/api/v1/nodes/n1/status", node); r.code != http.StatusOK {
		t.Fatalf("node status: %d %s", r.code, r.body)
	}
	e.createPod(t, "logged")
	e.createPod(t, "unbound")
	if r := e.post(t, podsPath+"/logged/binding", `{"metadata":{"name":"logged"},"target":{"kind":"Node","name":"n1"}}`); r.code != http.StatusCreated {
		t.Fatalf("bind: %d %s", r.code, r.body)
	}

	r := e.get(t, podsPath+"/logged/log?tailLines=10&timestamps=true")
	if r.code != http.StatusOK || string(r.body) != "line 1\nline 2\n" || r.header.Get("Content-Type") != "text/plain" {
		t.Fatalf("log: %d %q %q", r.code, r.header.Get("Content-Type"), r.body)
	}
	agent.mu.Lock()
	req := agent.req
	agent.mu.Unlock()
	if req.GetContainer() != "c" || req.GetTailLines() != 10 || !req.GetTimestamps() || req.GetFollow() {
		t.Errorf("agent got %v", req)
	}

	for _, tt := range []struct {
		method, path string
		code         int
		reason       kmetav1.StatusReason
		message      string
	}{
		{"GET", podsPath + "/unbound/log", 400, kmetav1.StatusReasonBadRequest, "does not have a host assigned"},
		{"GET", podsPath + "/nothere/log", 404, kmetav1.StatusReasonNotFound, `pods "nothere" not found`},
		{"GET", podsPath + "/logged/log?container=other", 400, kmetav1.StatusReasonBadRequest, "other"},
		{"GET", podsPath + "/logged/log?tailLines=ten", 400, kmetav1.StatusReasonBadRequest, "tailLines"},
		{"GET", podsPath + "/logged/log?follow=sure", 400, kmetav1.StatusReasonBadRequest, "follow"},
		{"GET", podsPath + "/logged/log?sinceTime=yesterday", 400, kmetav1.StatusReasonBadRequest, "sinceTime"},
		{"POST", podsPath + "/logged/log", 405, kmetav1.StatusReasonMethodNotAllowed, ""},
		{"GET", "/api/v1/namespaces/default/configmaps/x/log", 404, kmetav1.StatusReasonNotFound, ""},
	} {
		st := wantStatus(t, e.do(t, tt.method, tt.path, "", ""), tt.code, tt.reason)
		if !strings.Contains(st.Message, tt.message) {
			t.Errorf("%s %s: %q, want %q", tt.method, tt.path, st.Message, tt.message)
		}
	}
}
