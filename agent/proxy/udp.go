package proxy

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the UDP sessions.
const (
	// DefaultUDPIdleTimeout ends a client's session after this long without a datagram in
	// either direction.
	DefaultUDPIdleTimeout = 60 * time.Second
	// DefaultMaxUDPSessions bounds the sessions of one Service port; datagrams of new clients
	// beyond it are dropped until sessions end.
	DefaultMaxUDPSessions = 1024
)

// udpProxy is the socket of one UDP Service port. Each client address gets a session: a
// connected socket to the endpoint picked for it, whose replies are sent back to the client
// from the Service's socket.
type udpProxy struct {
	key    Key
	conn   *net.UDPConn
	picker *picker
	env    *env
	log    *slog.Logger
	done   chan struct{}

	wg       sync.WaitGroup // the sessions' reply loops
	mu       sync.Mutex
	sessions map[netip.AddrPort]*udpSession
	closed   bool
}

// udpSession is one client's connected socket to its endpoint.
type udpSession struct {
	up   *net.UDPConn
	ep   netip.AddrPort
	last atomic.Int64 // unix nanoseconds of the last datagram either way
}

func (s *udpSession) touch() { s.last.Store(time.Now().UnixNano()) }

func (s *udpSession) idle() time.Duration { return time.Since(time.Unix(0, s.last.Load())) }

func listenUDP(key Key, listenIP netip.Addr, t Target, env *env) (*udpProxy, error) {
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(listenIP, key.Port)))
	if err != nil {
		return nil, err
	}
	p := &udpProxy{
		key: key, conn: conn, picker: newPicker(t, nil), env: env,
		log:  env.log.With("service", t.Service, "listen", key.String()),
		done: make(chan struct{}), sessions: map[netip.AddrPort]*udpSession{},
	}
	go p.serve()
	return p, nil
}

// update replaces the endpoints; sessions to endpoints no longer ready end.
func (p *udpProxy) update(t Target) {
	p.picker.update(t)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.sessions {
		if !slices.Contains(t.Endpoints, s.ep) {
			_ = s.up.Close() // its reply loop removes it
		}
	}
}

// close closes the Service's socket and every session.
func (p *udpProxy) close() {
	_ = p.conn.Close()
	<-p.done
	p.mu.Lock()
	p.closed = true
	for _, s := range p.sessions {
		_ = s.up.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *udpProxy) serve() {
	defer close(p.done)
	buf := make([]byte, 65535)
	for {
		n, client, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			p.log.Debug("read", "err", err)
			continue
		}
		client = netip.AddrPortFrom(client.Addr().Unmap(), client.Port())
		s := p.session(client)
		if s == nil {
			continue
		}
		if _, err := s.up.Write(buf[:n]); err != nil {
			p.log.Debug("relay datagram", "endpoint", s.ep, "err", err)
			continue
		}
		s.touch()
	}
}

// session returns client's session, starting one when it has none; nil when none can be
// made (no endpoint, too many sessions).
func (p *udpProxy) session(client netip.AddrPort) *udpSession {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.sessions[client]; ok {
		return s
	}
	if p.closed {
		return nil
	}
	if len(p.sessions) >= p.env.maxUDPSessions {
		p.log.Debug("too many UDP sessions; dropping a datagram", "client", client, "sessions", len(p.sessions))
		return nil
	}
	for _, ep := range p.picker.candidates(client.Addr()) {
		up, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(ep))
		if err != nil {
			p.env.metrics.dialErrors.WithLabelValues("UDP").Inc()
			p.log.Debug("dial endpoint", "endpoint", ep, "err", err)
			continue
		}
		p.picker.connected(client.Addr(), ep)
		s := &udpSession{up: up, ep: ep}
		s.touch()
		p.sessions[client] = s
		p.env.metrics.connections.WithLabelValues("UDP").Inc()
		p.wg.Add(1)
		go p.replies(client, s)
		return s
	}
	return nil
}

// replies relays the endpoint's datagrams to client until the session is idle for the
// idle timeout or closed.
func (p *udpProxy) replies(client netip.AddrPort, s *udpSession) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		if p.sessions[client] == s {
			delete(p.sessions, client)
		}
		p.mu.Unlock()
		_ = s.up.Close()
	}()
	idle := p.env.udpIdleTimeout
	buf := make([]byte, 65535)
	for {
		_ = s.up.SetReadDeadline(time.Now().Add(idle - min(s.idle(), idle)))
		n, err := s.up.Read(buf)
		if err != nil {
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				if s.idle() >= idle {
					return
				}
			case errors.Is(err, net.ErrClosed):
				return
			}
			continue // ECONNREFUSED from the endpoint's ICMP: the session goes on
		}
		s.touch()
		if _, err := p.conn.WriteToUDPAddrPort(buf[:n], client); err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			p.log.Debug("relay reply", "client", client, "err", err)
		}
	}
}
