package ops

import (
	"net/http/pprof"
)

// ProfilingPath is where EnableProfiling mounts Go's profiler, as Kubernetes' --profiling does.
const ProfilingPath = "/debug/pprof/"

// EnableProfiling serves Go's runtime profiles under /debug/pprof/ (heap, allocs, goroutine,
// profile for CPU, trace, ...), for `go tool pprof http://ADDR/debug/pprof/heap`. It mounts the
// handlers explicitly rather than relying on net/http/pprof's registration on
// http.DefaultServeMux, which Berth never serves.
func (s *Server) EnableProfiling() {
	s.Mux.HandleFunc(ProfilingPath, pprof.Index) // heap, allocs, goroutine, block, mutex, ...
	s.Mux.HandleFunc(ProfilingPath+"cmdline", pprof.Cmdline)
	s.Mux.HandleFunc(ProfilingPath+"profile", pprof.Profile)
	s.Mux.HandleFunc(ProfilingPath+"symbol", pprof.Symbol)
	s.Mux.HandleFunc(ProfilingPath+"trace", pprof.Trace)
}
