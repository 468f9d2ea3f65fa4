package testapp

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Info is the JSON body of GET /.
type Info struct {
	Hostname   string            `json:"hostname"`
	PodIP      string            `json:"podIP"`
	Method     string            `json:"method"`
	Path       string            `json:"path"`
	RemoteAddr string            `json:"remoteAddr"`
	Env        map[string]string `json:"env"`
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", s.info)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("POST /fail", s.setFailing(true))
	mux.HandleFunc("POST /recover", s.setFailing(false))
	mux.HandleFunc("POST /exit", s.exitRequest)
	return s.logRequests(mux)
}

func (s *Server) info(w http.ResponseWriter, r *http.Request) {
	env := make(map[string]string, len(s.cfg.Environ))
	for _, kv := range s.cfg.Environ {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(Info{
		Hostname:   s.cfg.Hostname,
		PodIP:      podIP(),
		Method:     r.Method,
		Path:       r.URL.Path,
		RemoteAddr: r.RemoteAddr,
		Env:        env,
	})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	if s.failing.Load() {
		http.Error(w, "failing", http.StatusInternalServerError)
		return
	}
	_, _ = fmt.Fprintln(w, "ok")
}

func (s *Server) setFailing(failing bool) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		s.failing.Store(failing)
		if failing {
			_, _ = fmt.Fprintln(w, "/healthz now answers 500")
			return
		}
		_, _ = fmt.Fprintln(w, "/healthz now answers 200")
	}
}

func (s *Server) exitRequest(w http.ResponseWriter, r *http.Request) {
	code, err := parseExitCode(r.URL.Query().Get("code"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	_, _ = fmt.Fprintf(w, "exiting with code %d\n", code)
	select {
	case s.exit <- code:
	default: // an exit is already under way
	}
}

// parseExitCode reads the code query parameter of POST /exit: empty means 0.
func parseExitCode(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil {
		return 0, fmt.Errorf("code %q is not an exit status (0-255)", s)
	}
	return int(n), nil
}

// podIP is the first non-loopback IPv4 address of this host (in a Pod: the Pod's IP).
func podIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() {
			continue
		}
		if ip4 := ipn.IP.To4(); ip4 != nil {
			return ip4.String()
		}
	}
	return ""
}

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		s.log.Info("request", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr,
			"status", rec.status, "duration", time.Since(start).String())
	})
}
