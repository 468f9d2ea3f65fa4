package testapp

import (
	"context"
	"fmt"
	"net"
	"time"
)

// UDPRequest sends msg in one datagram to addr and returns the first datagram that comes
// back, for tests that need a UDP client inside a Pod (busybox's nc cannot speak UDP). It
// fails when no answer arrives within timeout or before ctx is done.
func UDPRequest(ctx context.Context, addr, msg string, timeout time.Duration) (string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return "", fmt.Errorf("dial udp %s: %w", addr, err)
	}
	defer func() { _ = conn.Close() }()
	deadline := time.Now().Add(timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	if err := conn.SetDeadline(deadline); err != nil {
		return "", fmt.Errorf("udp %s: %w", addr, err)
	}
	if _, err := conn.Write([]byte(msg)); err != nil {
		return "", fmt.Errorf("send to udp %s: %w", addr, err)
	}
	buf := make([]byte, 64<<10)
	n, err := conn.Read(buf)
	if err != nil {
		return "", fmt.Errorf("no answer from udp %s: %w", addr, err)
	}
	return string(buf[:n]), nil
}
