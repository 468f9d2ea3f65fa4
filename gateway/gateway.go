package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-dev/berth/gateway/discovery"
	"github.com/berth-dev/berth/gateway/httpstatus"
	"github.com/berth-dev/berth/gateway/openapi"
	"github.com/berth-dev/berth/gateway/patch"
	"github.com/berth-dev/berth/gateway/table"
	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/kubejson"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Options configures New. A nil handler is the team's own: gateway/patch, gateway/discovery,
// gateway/openapi.
type Options struct {
	// Logger records requests that fail on the server's side; nil discards.
	Logger *slog.Logger
	// Version is Berth's version, which /version reports after the Kubernetes version Berth's
	// API mirrors.
	Version string
	// Patch serves PATCH on object, /status and /scale paths.
	Patch http.Handler
	// Discovery serves /version, /api, /apis, /api/v1 and /apis/{group}[/{version}].
	Discovery http.Handler
	// OpenAPI serves /openapi/v2 and /openapi/v3[/...].
	OpenAPI http.Handler
}

// registrations are the generated handlers of every service, one per resource.
var registrations = []func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error{
	corev1.RegisterNamespaceServiceHandler,
	corev1.RegisterNodeServiceHandler,
	corev1.RegisterPodServiceHandler,
	corev1.RegisterServiceServiceHandler,
	corev1.RegisterEndpointsServiceHandler,
	corev1.RegisterConfigMapServiceHandler,
	corev1.RegisterSecretServiceHandler,
	corev1.RegisterEventServiceHandler,
	corev1.RegisterReplicationControllerServiceHandler,
	appsv1.RegisterReplicaSetServiceHandler,
	appsv1.RegisterDeploymentServiceHandler,
	coordinationv1.RegisterLeaseServiceHandler,
}

// Gateway is the REST face of the apiserver (see the package doc).
type Gateway struct {
	client                    *client.Client
	mux                       *runtime.ServeMux
	patch, discovery, openapi http.Handler
	log                       *slog.Logger
	// cache keeps the JSON of the objects gets, lists and watches answer with.
	cache *kubejson.Cache
}

// jsonCacheBytes bounds the JSON the gateway keeps of the objects it has read, so that a list
// or a watch event encodes each object once for all its readers (kubejson.Cache).
const jsonCacheBytes = 64 << 20

var _ http.Handler = (*Gateway)(nil)

// New returns the gateway in front of the apiserver that c talks to. c may call the apiserver
// in process (apiserver.Server.DialInProcess, as `berth server` does): the gateway only
// encodes what it receives and never reuses a request.
func New(c *client.Client, opts Options) (*Gateway, error) {
	g := &Gateway{client: c, patch: opts.Patch, discovery: opts.Discovery, openapi: opts.OpenAPI, log: opts.Logger,
		cache: kubejson.NewCache(jsonCacheBytes)}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.patch == nil {
		g.patch = patch.NewHandler(c)
	}
	if g.discovery == nil {
		d, err := discovery.New(discovery.Options{Version: opts.Version})
		if err != nil {
			return nil, fmt.Errorf("discovery: %w", err)
		}
		g.discovery = d
	}
	if g.openapi == nil {
		o, err := openapi.New(openapi.Options{Version: opts.Version})
		if err != nil {
			return nil, fmt.Errorf("openapi: %w", err)
		}
		g.openapi = o
	}
	none := func(string) (string, bool) { return "", false }
	g.mux = runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, marshaler{}),
		runtime.WithErrorHandler(g.handleError),
		runtime.WithRoutingErrorHandler(g.handleRoutingError),
		runtime.WithForwardResponseRewriter(g.rewrite),
		runtime.WithForwardResponseOption(g.responseHeaders),
		// Neither HTTP headers nor gRPC metadata cross the gateway: the API carries all it
		// needs in its messages.
		runtime.WithIncomingHeaderMatcher(none),
		runtime.WithOutgoingHeaderMatcher(none),
		runtime.WithOutgoingTrailerMatcher(none),
		runtime.WithDisablePathLengthFallback(),
		runtime.WithWriteContentLength(),
	)
	for _, register := range registrations {
		if err := register(context.Background(), g.mux, c.Conn()); err != nil {
			return nil, fmt.Errorf("register gateway handlers: %w", err)
		}
	}
	return g, nil
}

// ServeHTTP answers one request: resource paths through the generated handlers (after the
// body checks writes need) or the watch and patch handlers; discovery and OpenAPI paths
// through theirs; anything else with a 404 Status.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, ok := parseRoute(r.URL.Path)
	if !ok {
		g.serveNonResource(w, r)
		return
	}
	if rt.sub == subLog {
		if r.Method != http.MethodGet {
			httpstatus.WriteError(w, methodNotAllowed())
			return
		}
		g.serveLog(w, r, rt)
		return
	}
	info := &requestInfo{route: rt}
	switch r.Method {
	case http.MethodGet:
		watch, err := isWatch(rt, r.URL.Query())
		if err != nil {
			httpstatus.WriteError(w, err)
			return
		}
		if watch {
			g.serveWatch(w, r, rt)
			return
		}
		if rt.sub != subScale {
			if info.table, err = table.Negotiate(r); err != nil {
				httpstatus.WriteError(w, err)
				return
			}
		}
		info.read = true
	case http.MethodPatch:
		if !rt.watchPath {
			g.patch.ServeHTTP(w, r)
			return
		}
	case http.MethodPost, http.MethodPut:
		if !writable(r.Method, rt) {
			break
		}
		if rt.sub == subBinding {
			info.bind = true
		}
		var err error
		if r, err = g.prepareWrite(w, r, rt); err != nil {
			httpstatus.WriteError(w, err)
			return
		}
		if r.Method == http.MethodPost {
			w = &createdWriter{ResponseWriter: w}
		}
	case http.MethodDelete:
		if rt.collection() || rt.sub != "" || rt.watchPath {
			break
		}
		var err error
		if r, err = prepareDelete(r); err != nil {
			httpstatus.WriteError(w, err)
			return
		}
	}
	if rt.watchPath {
		httpstatus.WriteError(w, methodNotAllowed())
		return
	}
	g.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), infoKey{}, info)))
}

// writable tells whether a POST or PUT on rt is one the API serves: a create on a
// collection (with its namespace), a binding, or a PUT of an object, its status or its scale.
func writable(method string, rt route) bool {
	if rt.watchPath {
		return false
	}
	if method == http.MethodPost {
		return (rt.collection() && (rt.namespace != "" || !rt.res.Namespaced)) || rt.sub == subBinding
	}
	return !rt.collection() && rt.sub != subBinding
}

// serveNonResource answers paths that name no resource: discovery, OpenAPI, or a 404.
func (g *Gateway) serveNonResource(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/openapi/v2" || p == "/openapi/v3" || strings.HasPrefix(p, "/openapi/v3/"):
		g.openapi.ServeHTTP(w, r)
	case isDiscoveryPath(p):
		g.discovery.ServeHTTP(w, r)
	default:
		g.mux.ServeHTTP(w, r)
	}
}

// isDiscoveryPath tells whether p is one of the discovery documents: /version, /api, /apis,
// /api/{version}, /apis/{group} and /apis/{group}/{version}.
func isDiscoveryPath(p string) bool {
	switch p {
	case "/version", "/version/", "/api", "/api/", "/apis", "/apis/":
		return true
	}
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for _, s := range segs {
		if s == "" {
			return false
		}
	}
	switch segs[0] {
	case "api":
		return len(segs) == 2
	case "apis":
		return len(segs) == 2 || len(segs) == 3
	}
	return false
}

// requestInfo is what the front of the gateway learned about a request, for the parts of
// grpc-gateway that only see its context.
type requestInfo struct {
	route route
	// bind is set for POST .../pods/{name}/binding, answered with a Status as Kubernetes does.
	bind bool
	// table is set when the client asked for a Table.
	table *table.Options
	// read is set for gets and lists, whose objects are stored ones: their JSON may come from
	// the cache.
	read bool
}

type infoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(infoKey{}).(*requestInfo)
	return info
}

// handleError answers every error of the generated handlers with a Status.
func (g *Gateway) handleError(ctx context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	var hse *runtime.HTTPStatusError
	if errors.As(err, &hse) {
		err = statusError(hse.HTTPStatus, hse.Err.Error())
	}
	st := httpstatus.FromError(err)
	if st.Code >= http.StatusInternalServerError {
		g.log.WarnContext(ctx, "request failed", "method", r.Method, "path", r.URL.Path, "code", st.Code, "err", err)
	}
	httpstatus.Write(w, int(st.Code), &st)
}

// handleRoutingError answers paths no rule matches, as the Kubernetes apiserver does.
func (g *Gateway) handleRoutingError(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, _ *http.Request, code int) {
	switch code {
	case http.StatusNotFound:
		httpstatus.WriteError(w, notFound())
	case http.StatusMethodNotAllowed:
		httpstatus.WriteError(w, methodNotAllowed())
	default:
		httpstatus.WriteError(w, statusError(code, http.StatusText(code)))
	}
}

func notFound() error {
	return statusError(http.StatusNotFound, "the server could not find the requested resource")
}

func methodNotAllowed() error {
	return statusError(http.StatusMethodNotAllowed, "the server does not allow this method on the requested resource")
}

// statusError is a Status error with an HTTP code and the reason Kubernetes gives it.
func statusError(code int, msg string) error {
	reason := kmetav1.StatusReasonUnknown
	switch code {
	case http.StatusNotFound:
		reason = kmetav1.StatusReasonNotFound
	case http.StatusMethodNotAllowed:
		reason = kmetav1.StatusReasonMethodNotAllowed
	case http.StatusBadRequest:
		reason = kmetav1.StatusReasonBadRequest
	}
	return &kerrors.StatusError{ErrStatus: kmetav1.Status{
		Status: kmetav1.StatusFailure, Code: int32(code), Reason: reason, Message: msg,
		Details: &kmetav1.StatusDetails{},
	}}
}

// createdWriter answers 201 Created where the generated handler answers 200, for creates and
// bindings.
type createdWriter struct {
	http.ResponseWriter
	wrote bool
}

func (c *createdWriter) WriteHeader(code int) {
	if !c.wrote && code == http.StatusOK {
		code = http.StatusCreated
	}
	c.wrote = true
	c.ResponseWriter.WriteHeader(code)
}

func (c *createdWriter) Write(b []byte) (int, error) {
	if !c.wrote {
		c.WriteHeader(http.StatusOK)
	}
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (c *createdWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
