package ops

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestProfiling(t *testing.T) {
	for _, tc := range []struct {
		name    string
		enable  bool
		path    string
		code    int
		content string
	}{
		{"index when enabled", true, "/debug/pprof/", http.StatusOK, "heap"},
		{"heap profile when enabled", true, "/debug/pprof/heap?debug=1", http.StatusOK, "heap profile"},
		{"cmdline when enabled", true, "/debug/pprof/cmdline", http.StatusOK, ""},
		{"nothing when disabled", false, "/debug/pprof/", http.StatusNotFound, ""},
		{"no heap when disabled", false, "/debug/pprof/heap", http.StatusNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(slog.New(slog.DiscardHandler))
			if tc.enable {
				s.EnableProfiling()
			}
			srv := httptest.NewServer(s.Mux)
			defer srv.Close()
			resp, err := http.Get(srv.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.code {
				t.Fatalf("GET %s: %d, want %d: %s", tc.path, resp.StatusCode, tc.code, body)
			}
			if !strings.Contains(string(body), tc.content) {
				t.Errorf("GET %s: body does not mention %q: %.200s", tc.path, tc.content, body)
			}
		})
	}
}
