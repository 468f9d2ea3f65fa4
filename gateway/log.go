package gateway

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/berth-dev/berth/gateway/httpstatus"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// logRequest reads the pods/log query as Kubernetes' PodLogOptions: container, follow,
// previous, sinceSeconds, sinceTime, timestamps, tailLines and limitBytes. A value that does
// not parse is a 400.
func logRequest(rt route, q url.Values) (*corev1.PodLogRequest, error) {
	req := &corev1.PodLogRequest{Namespace: rt.namespace, Name: rt.name, Container: q.Get("container")}
	for name, dst := range map[string]*bool{"follow": &req.Follow, "previous": &req.Previous, "timestamps": &req.Timestamps} {
		if v := q.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, kerrors.NewBadRequest(fmt.Sprintf("%s: invalid value %q: must be true or false", name, v))
			}
			*dst = b
		}
	}
	for name, dst := range map[string]**int64{"sinceSeconds": &req.SinceSeconds, "tailLines": &req.TailLines, "limitBytes": &req.LimitBytes} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, kerrors.NewBadRequest(fmt.Sprintf("%s: invalid value %q: must be an integer", name, v))
			}
			*dst = &n
		}
	}
	if v := q.Get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, kerrors.NewBadRequest(fmt.Sprintf("sinceTime: invalid value %q: must be an RFC 3339 time", v))
		}
		req.SinceTime = timestamppb.New(t)
	}
	return req, nil
}

// serveLog streams the log of a Pod's container (GET .../pods/{name}/log) as Kubernetes does:
// plain text, flushed chunk by chunk, for as long as it lasts (with follow, until the
// container ends or the client leaves). A log that cannot start is a Status; a stream that
// breaks later just ends, since the answer has begun.
func (g *Gateway) serveLog(w http.ResponseWriter, r *http.Request, rt route) {
	req, err := logRequest(rt, r.URL.Query())
	if err != nil {
		httpstatus.WriteError(w, err)
		return
	}
	ctx := r.Context()
	stream, err := corev1.NewPodServiceClient(g.client.Conn()).Log(ctx, req)
	if err != nil {
		httpstatus.WriteError(w, err)
		return
	}
	// The first chunk (or the end, or the error) tells whether the log could start.
	chunk, err := stream.Recv()
	if err != nil && !errors.Is(err, io.EOF) {
		httpstatus.WriteError(w, err)
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	for err == nil {
		if _, werr := w.Write(chunk.GetData()); werr != nil {
			return
		}
		if ferr := rc.Flush(); ferr != nil {
			return
		}
		chunk, err = stream.Recv()
	}
	if !errors.Is(err, io.EOF) && ctx.Err() == nil {
		g.log.WarnContext(ctx, "pod log stream broke", "namespace", rt.namespace, "pod", rt.name, "err", err)
	}
}
