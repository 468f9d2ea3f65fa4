// Package inproc serves gRPC services to clients in the same process without a network hop or
// serialization: a call on a *grpc.ClientConn dialed with a Server's DialOptions goes straight
// to the registered implementation, through the same server interceptors a *grpc.Server runs
// (metrics, error conversion), and its response comes back as the message the implementation
// returned.
//
// A Server is a grpc.ServiceRegistrar: register the services on it as on a *grpc.Server (both,
// through a Tee, to serve the network too). DialOptions are client interceptors that divert
// unary and server-streaming calls of registered methods; anything else (client or
// bidirectional streams, unknown methods, calls that force a codec) goes on to the
// connection's own target, so the connection still needs a real server behind it.
//
// Because nothing is copied, a diverted call has different ownership rules from a network one:
// the implementation receives the caller's request (and may change it), and the caller receives
// the implementation's response, which may share objects with the server's caches. Callers must
// not reuse a request after the call, nor change a response. The REST gateway, which only
// encodes what it receives, is the client this is for.
package inproc
