package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsjson "sigs.k8s.io/json"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
)

// env is a gateway in front of a real apiserver on embedded etcd.
type env struct {
	url    string
	client *client.Client
	g      *Gateway
	// grpcAddr is the apiserver's gRPC address.
	grpcAddr string
}

// overNetwork makes start dial the apiserver over TCP, as `berth gateway` does, rather than
// call it in process, as `berth server` does (TestOverTheNetwork).
var overNetwork bool

func start(t testing.TB) *env {
	t.Helper()
	inst := apiservertest.StartWith(t, apiservertest.Options{})
	if overNetwork {
		return startAt(t, inst.Addr)
	}
	c, err := inst.Server.DialInProcess(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e := startWith(t, c)
	e.grpcAddr = inst.Addr
	return e
}

func startAt(t testing.TB, addr string) *env {
	t.Helper()
	c, err := client.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	e := startWith(t, c)
	e.grpcAddr = addr
	return e
}

func startWith(t testing.TB, c *client.Client) *env {
	t.Helper()
	t.Cleanup(func() { c.Close() })
	g, err := New(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return &env{url: srv.URL, client: c, g: g}
}

// response is one HTTP answer, read whole.
type response struct {
	code   int
	header http.Header
	body   []byte
}

func (e *env) do(t *testing.T, method, path, contentType, body string, header ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, path, err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: b}
}

func (e *env) get(t *testing.T, path string) response { return e.do(t, http.MethodGet, path, "", "") }

func (e *env) post(t *testing.T, path, body string) response {
	return e.do(t, http.MethodPost, path, "application/json", body)
}

func (e *env) put(t *testing.T, path, body string) response {
	return e.do(t, http.MethodPut, path, "application/json", body)
}

// strict decodes JSON into v with Kubernetes' strict field checking: unknown, duplicate or
// mistyped fields fail the test.
func strict(t *testing.T, data []byte, v any) {
	t.Helper()
	strictErrs, err := sigsjson.UnmarshalStrict(data, v)
	if err != nil || len(strictErrs) > 0 {
		t.Fatalf("strict decode into %T: %v %v\n%s", v, err, strictErrs, data)
	}
}

// wantStatus checks that r is a Status with the code and reason, and returns it.
func wantStatus(t *testing.T, r response, code int, reason kmetav1.StatusReason) kmetav1.Status {
	t.Helper()
	var st kmetav1.Status
	if err := json.Unmarshal(r.body, &st); err != nil {
		t.Fatalf("not a Status (%d): %v\n%s", r.code, err, r.body)
	}
	if r.code != code || st.Code != int32(code) || st.Reason != reason || st.Kind != "Status" || st.Status != kmetav1.StatusFailure {
		t.Fatalf("got %d %s/%s %q; want %d %s\n%s", r.code, st.Kind, st.Reason, st.Message, code, reason, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	return st
}

// stream is an open watch.
type stream struct {
	resp  *http.Response
	lines chan string
}

// watch opens a watch and returns once the gateway has answered its headers.
func (e *env) watch(t *testing.T, path string, header ...string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("watch %s: %v", path, err)
	}
	s := &stream{resp: resp, lines: make(chan string, 100)}
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
	})
	return s
}

// next returns the next line of the stream, failing the test after a timeout; "" when the
// stream ended.
func (s *stream) next(t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-s.lines:
		if !ok {
			return ""
		}
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event after 10s")
		return ""
	}
}

// event is a watch event whose object is left raw.
type event struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

func (s *stream) nextEvent(t *testing.T) event {
	t.Helper()
	l := s.next(t)
	if l == "" {
		t.Fatal("watch ended")
	}
	var ev event
	strict(t, []byte(l), &ev)
	return ev
}
