package client

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	"github.com/berth-dev/berth/pkg/apistatus"
	"github.com/berth-dev/berth/pkg/scheme"
)

// KeepaliveTime is how often the client pings an idle connection, so that a watch on a dead
// server or a dropped route ends instead of hanging. Servers must allow it: their
// keepalive.EnforcementPolicy.MinTime must not exceed KeepaliveTime, or they close a
// connection that carries an idle watch with "too_many_pings". The client only pings while
// calls are in flight.
const KeepaliveTime = 30 * time.Second

// KeepaliveTimeout is how long the client waits for a ping's answer before it closes the
// connection.
const KeepaliveTimeout = 20 * time.Second

// MaxMessageSize bounds a single response (a page of a list), well above the 1.5 MiB limit
// of one object.
const MaxMessageSize = 64 << 20

// Client is a connection to the apiserver.
type Client struct {
	conn *grpc.ClientConn
}

// Option configures Dial.
type Option func(*options)

type options struct {
	dialOptions []grpc.DialOption
	block       bool
}

// WithDialOptions adds gRPC dial options, after the client's own (so they can override them).
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOptions = append(o.dialOptions, opts...) }
}

// WithBlock makes Dial wait until the connection is ready, or fail when ctx ends first.
// Without it Dial returns at once and the first call reports an unreachable server.
func WithBlock() Option {
	return func(o *options) { o.block = true }
}

// Dial connects to the apiserver's gRPC address ("127.0.0.1:6443"). The connection is
// insecure (plain TCP) for now; every error a call returns is a *StatusError.
func Dial(ctx context.Context, addr string, opts ...Option) (*Client, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	dopts := append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainUnaryInterceptor(apistatus.UnaryClientInterceptor),
		grpc.WithChainStreamInterceptor(apistatus.StreamClientInterceptor),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                KeepaliveTime,
			Timeout:             KeepaliveTimeout,
			PermitWithoutStream: false,
		}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)),
	}, o.dialOptions...)
	conn, err := grpc.NewClient(addr, dopts...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	if o.block {
		if err := waitReady(ctx, conn); err != nil {
			conn.Close()
			return nil, fmt.Errorf("connect to %s: %w", addr, err)
		}
	}
	return &Client{conn: conn}, nil
}

func waitReady(ctx context.Context, conn *grpc.ClientConn) error {
	conn.Connect()
	for {
		s := conn.GetState()
		if s == connectivity.Ready {
			return nil
		}
		if !conn.WaitForStateChange(ctx, s) {
			return ctx.Err()
		}
	}
}

// Close closes the connection; calls in flight fail.
func (c *Client) Close() error { return c.conn.Close() }

// Conn is the underlying connection, for the typed clients generated from the protos.
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Resource returns the client of one resource.
func (c *Client) Resource(r *scheme.Resource) *ResourceClient {
	return &ResourceClient{conn: c.conn, r: r}
}
