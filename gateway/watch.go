package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/gateway/httpstatus"
	"github.com/berth-dev/berth/gateway/table"
	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/kubejson"
	"github.com/berth-dev/berth/pkg/scheme"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// isWatch tells whether a GET asks for a watch: any /watch/ path, or ?watch=true (or 1) on a
// list path. A watch parameter that is not a boolean is a 400.
func isWatch(rt route, q url.Values) (bool, error) {
	if rt.watchPath {
		return true, nil
	}
	v := q.Get("watch")
	if v == "" {
		return false, nil
	}
	watch, err := strconv.ParseBool(v)
	if err != nil {
		return false, kerrors.NewBadRequest(fmt.Sprintf("watch: invalid value %q: must be true or false", v))
	}
	return watch && rt.collection(), nil
}

// watchOptions reads a watch's ListOptions from the query: resourceVersion,
// resourceVersionMatch, labelSelector, fieldSelector, timeoutSeconds, allowWatchBookmarks and
// sendInitialEvents. A /watch/ path naming one object watches that object alone.
func watchOptions(rt route, q url.Values) (*metav1.ListOptions, error) {
	opts := &metav1.ListOptions{
		Namespace:            rt.namespace,
		ResourceVersion:      q.Get("resourceVersion"),
		ResourceVersionMatch: q.Get("resourceVersionMatch"),
		LabelSelector:        q.Get("labelSelector"),
		FieldSelector:        q.Get("fieldSelector"),
	}
	if rt.name != "" {
		sel := "metadata.name=" + rt.name
		if opts.FieldSelector != "" {
			sel += "," + opts.FieldSelector
		}
		opts.FieldSelector = sel
	}
	if v := q.Get("timeoutSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, kerrors.NewBadRequest(fmt.Sprintf("timeoutSeconds: invalid value %q: must be a non-negative integer", v))
		}
		opts.TimeoutSeconds = n
	}
	boolParam := func(name string) (*bool, error) {
		v := q.Get(name)
		if v == "" {
			return nil, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, kerrors.NewBadRequest(fmt.Sprintf("%s: invalid value %q: must be true or false", name, v))
		}
		return &b, nil
	}
	bookmarks, err := boolParam("allowWatchBookmarks")
	if err != nil {
		return nil, err
	}
	opts.AllowWatchBookmarks = bookmarks != nil && *bookmarks
	if opts.SendInitialEvents, err = boolParam("sendInitialEvents"); err != nil {
		return nil, err
	}
	return opts, nil
}

// serveWatch streams a watch as Kubernetes does: 200, then one JSON event per line,
// {"type":"ADDED","object":{...}}, flushed as it comes, until the client leaves, the
// watch's timeout passes or the apiserver ends it. A watch that cannot start is a Status
// (400 for a malformed resourceVersion), except an expired resourceVersion, which Kubernetes
// reports inside the stream: one ERROR event carrying a 410 Expired Status, then the end.
func (g *Gateway) serveWatch(w http.ResponseWriter, r *http.Request, rt route) {
	opts, err := watchOptions(rt, r.URL.Query())
	if err != nil {
		httpstatus.WriteError(w, err)
		return
	}
	tbl, err := table.Negotiate(r)
	if err != nil {
		httpstatus.WriteError(w, err)
		return
	}
	enc := eventEncoder(rt.res, tbl, g.cache)
	contentType := "application/json"
	if tbl != nil {
		contentType = tbl.ContentType()
	}
	ctx := r.Context()
	rc := http.NewResponseController(w)
	start := func() {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-cache, private")
		w.WriteHeader(http.StatusOK)
		_ = rc.Flush()
	}
	watcher, err := g.client.Resource(rt.res).Watch(ctx, opts)
	if err != nil {
		if st := httpstatus.FromError(err); st.Code == http.StatusGone && ctx.Err() == nil {
			start()
			writeErrorEvent(w, rc, err)
			return
		}
		httpstatus.WriteError(w, err)
		return
	}
	defer watcher.Stop()
	start()
	// Events are received ahead of the writes, so that those that wait while the client reads
	// go out together: each is flushed as it comes, unless more are waiting (as the Kubernetes
	// apiserver does). A watch with many watchers then costs a write per batch, not per event.
	events := make(chan client.Event, watchQueue)
	var recvErr error
	go func() {
		defer close(events)
		for {
			ev, err := watcher.Next()
			if err != nil {
				recvErr = err
				return
			}
			select {
			case events <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	var buf []byte
	for ev := range events {
		var err error
		if buf, err = enc(buf, ev.Type, ev.Object); err != nil {
			g.log.WarnContext(ctx, "encode watch event", "resource", rt.res.GroupResource(), "err", err)
			_, _ = w.Write(buf)
			writeErrorEvent(w, rc, kerrors.NewInternalError(err))
			return
		}
		buf = append(buf, '\n')
		if len(events) > 0 && len(buf) < maxWatchBatch {
			continue
		}
		if _, err := w.Write(buf); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		buf = buf[:0]
	}
	// The events channel is closed: recvErr is set, or the client has gone.
	switch err := recvErr; {
	case err == nil, errors.Is(err, io.EOF):
	case ctx.Err() == nil && httpstatus.FromError(err).Code != http.StatusServiceUnavailable:
		// The apiserver going away ends the stream as a Kubernetes apiserver's shutdown does,
		// without an ERROR event: the client reconnects and resumes.
		writeErrorEvent(w, rc, err)
	}
}

// Bounds of a watch's batching: the events received ahead of the writes, and the bytes written
// at once.
const (
	watchQueue    = 100
	maxWatchBatch = 64 << 10
)

// eventEncoder returns how one watch event is appended to a buffer: Kubernetes JSON, or a
// Table row when the client asked for Tables. The JSON of an object comes from the cache when
// another watch (or a get or list) has written it already.
func eventEncoder(r *scheme.Resource, tbl *table.Options, cache *kubejson.Cache) func([]byte, string, scheme.Object) ([]byte, error) {
	if tbl != nil {
		enc := tbl.NewWatchEncoder(r)
		return func(b []byte, typ string, obj scheme.Object) ([]byte, error) {
			line, err := enc.Encode(typ, obj)
			return append(b, line...), err
		}
	}
	opts := kubejson.MarshalOptions{Cache: cache}
	return func(b []byte, typ string, obj scheme.Object) ([]byte, error) {
		return opts.AppendWatchEvent(b, typ, obj)
	}
}

// writeErrorEvent ends a stream with an ERROR event carrying err's Status.
func writeErrorEvent(w http.ResponseWriter, rc *http.ResponseController, err error) {
	st := httpstatus.FromError(err)
	line, mErr := json.Marshal(struct {
		Type   string `json:"type"`
		Object any    `json:"object"`
	}{client.Error, &st})
	if mErr != nil {
		return
	}
	_, _ = w.Write(append(line, '\n'))
	_ = rc.Flush()
}
