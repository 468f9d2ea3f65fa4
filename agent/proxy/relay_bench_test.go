package proxy

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"
)

// BenchmarkTCPRelay measures HTTP GETs through one TCP listener of the proxy next to the same
// GETs straight to the backend, with a new connection per request and with keep-alive: the
// data path's cost per request (run with -cpuprofile to see where it goes).
func BenchmarkTCPRelay(b *testing.B) {
	backend, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"hostname": "bench"}`)
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(backend) }()
	b.Cleanup(func() { _ = srv.Close() })

	e := &env{conns: newConnSet(), metrics: newMetrics(nil), log: slog.New(slog.DiscardHandler)}
	ep := backend.Addr().(*net.TCPAddr).AddrPort()
	p, err := listenTCP(Key{IP: netip.MustParseAddr("127.0.0.2"), Port: 0, Protocol: "TCP"}, netip.MustParseAddr("127.0.0.2"),
		Target{Service: "bench/web:http", Endpoints: []netip.AddrPort{ep}}, e)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.close(); e.conns.closeAll() })
	proxied := p.l.Addr().String()

	for _, path := range []struct{ name, addr string }{{"direct", ep.String()}, {"proxied", proxied}} {
		for _, keepAlive := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/keepalive=%v", path.name, keepAlive), func(b *testing.B) {
				c := &http.Client{Transport: &http.Transport{DisableKeepAlives: !keepAlive}, Timeout: 5 * time.Second}
				defer c.CloseIdleConnections()
				url := "http://" + path.addr + "/"
				b.ResetTimer()
				for range b.N {
					resp, err := c.Get(url)
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
			})
		}
	}
}
