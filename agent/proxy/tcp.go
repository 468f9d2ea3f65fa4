package proxy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// dialTimeout bounds the connection to one endpoint; the next one is tried after it.
const dialTimeout = 2 * time.Second

// tcpProxy is the listener of one TCP Service port and the connections it relays.
type tcpProxy struct {
	key    Key
	l      *net.TCPListener
	picker *picker
	conns  *connSet
	m      *metrics
	log    *slog.Logger
	done   chan struct{}
}

func listenTCP(key Key, listenIP netip.Addr, t Target, env *env) (*tcpProxy, error) {
	l, err := net.ListenTCP("tcp4", net.TCPAddrFromAddrPort(netip.AddrPortFrom(listenIP, key.Port)))
	if err != nil {
		return nil, err
	}
	p := &tcpProxy{
		key: key, l: l, picker: newPicker(t, nil), conns: env.conns, m: env.metrics,
		log: env.log.With("service", t.Service, "listen", key.String()), done: make(chan struct{}),
	}
	go p.serve()
	return p, nil
}

func (p *tcpProxy) update(t Target) { p.picker.update(t) }

// close stops accepting; connections in progress go on until either side ends them.
func (p *tcpProxy) close() {
	_ = p.l.Close()
	<-p.done
}

func (p *tcpProxy) serve() {
	defer close(p.done)
	for {
		c, err := p.l.AcceptTCP()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			p.log.Warn("accept", "err", err)
			time.Sleep(50 * time.Millisecond) // EMFILE and the like: do not spin
			continue
		}
		if !p.conns.track(c) {
			_ = c.Close() // the proxy is stopping
			return
		}
		go p.relay(c)
	}
}

// relay connects c to an endpoint and splices the two until both directions end.
func (p *tcpProxy) relay(c *net.TCPConn) {
	defer p.conns.untrack(c)
	defer c.Close()
	client := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
	var up *net.TCPConn
	for _, ep := range p.picker.candidates(client) {
		ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
		// Dialing the address as it is spares formatting and parsing it again per connection.
		var d net.Dialer
		conn, err := d.DialTCP(ctx, "tcp4", netip.AddrPort{}, ep)
		cancel()
		if err != nil {
			p.m.dialErrors.WithLabelValues("TCP").Inc()
			p.log.Debug("dial endpoint", "endpoint", ep, "err", err)
			continue
		}
		p.picker.connected(client, ep)
		up = conn
		break
	}
	if up == nil {
		p.log.Info("no endpoint answered; closing the connection", "client", client)
		return
	}
	if !p.conns.add(up) {
		_ = up.Close()
		return
	}
	defer p.conns.remove(up)
	defer up.Close()
	p.m.connections.WithLabelValues("TCP").Inc()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); splice(up, c) }()
	splice(c, up)
	wg.Wait()
}

// splice copies src to dst (io.Copy between *net.TCPConn uses splice(2) on Linux), then
// half-closes: dst's write side and src's read side.
func splice(dst, src *net.TCPConn) {
	_, _ = io.Copy(dst, src)
	_ = dst.CloseWrite()
	_ = src.CloseRead()
}

// connSet tracks the relayed connections so that stopping the proxy closes them and waits
// for their relays.
type connSet struct {
	wg     sync.WaitGroup // one per tracked client connection: its relay
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func newConnSet() *connSet { return &connSet{conns: map[net.Conn]struct{}{}} }

// track adds a client connection whose relay is starting; false once closeAll ran.
func (s *connSet) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

// untrack ends what track started.
func (s *connSet) untrack(c net.Conn) {
	s.remove(c)
	s.wg.Done()
}

// add tracks c; false once closeAll ran.
func (s *connSet) add(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *connSet) remove(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

// closeAll closes every tracked connection, refuses new ones and waits for the relays.
func (s *connSet) closeAll() {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
