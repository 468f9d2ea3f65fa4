package patch

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/berth-dev/berth/gateway/httpstatus"
	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/kubejson"
)

// MaxBodyBytes bounds a patch body, as the Kubernetes apiserver bounds request bodies (3 MiB).
const MaxBodyBytes = 3 << 20

// MaxJSONPatchCopyBytes bounds how much a JSON patch's copy operations may add to a document
// (jsonpatch.AccumulatedCopySizeLimit, set by NewHandler as the Kubernetes apiserver sets it).
const MaxJSONPatchCopyBytes = 3 << 20

// Handler serves PATCH requests on Kubernetes object paths, /status and /scale.
type Handler struct {
	p *Patcher
}

var _ http.Handler = (*Handler)(nil)

// NewHandler returns the PATCH handler, reading and writing through c. It lowers the
// process-wide jsonpatch.AccumulatedCopySizeLimit to MaxJSONPatchCopyBytes, so that a small
// patch of "copy" operations cannot grow a document without bound.
func NewHandler(c *client.Client) *Handler {
	for {
		cur := atomic.LoadInt64(&jsonpatch.AccumulatedCopySizeLimit)
		if (cur > 0 && cur <= MaxJSONPatchCopyBytes) ||
			atomic.CompareAndSwapInt64(&jsonpatch.AccumulatedCopySizeLimit, cur, MaxJSONPatchCopyBytes) {
			break
		}
	}
	return &Handler{p: NewPatcher(c)}
}

// ServeHTTP patches the object the request's path names (see ParsePath). Methods other than
// PATCH are answered 405.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPatch {
		httpstatus.WriteError(w, kerrors.NewGenericServerResponse(http.StatusMethodNotAllowed, r.Method, schema.GroupResource{}, "", "", 0, false))
		return
	}
	t, err := ParsePath(r.URL.Path)
	if err != nil {
		httpstatus.WriteError(w, err)
		return
	}
	h.ServeTarget(w, r, t)
}

// ServeTarget patches t, for a caller that has already parsed the path. The patch type is
// the request's Content-Type; the query may carry dryRun, force, fieldManager and
// fieldValidation (PatchOptions). It answers 200 with the object as stored, 201 when a
// server-side apply created it, or a Status.
func (h *Handler) ServeTarget(w http.ResponseWriter, r *http.Request, t Target) {
	pt, err := PatchType(r.Header.Get("Content-Type"))
	if err != nil {
		httpstatus.WriteError(w, err)
		return
	}
	opts, err := PatchOptions(r.URL.Query())
	if err != nil {
		httpstatus.WriteError(w, err)
		return
	}
	body, err := readBody(r.Body)
	if err != nil {
		httpstatus.WriteError(w, err)
		return
	}
	res, err := h.p.Patch(r.Context(), t, pt, body, opts)
	if err != nil {
		httpstatus.WriteError(w, err)
		return
	}
	out, err := kubejson.Marshal(res.Object)
	if err != nil {
		httpstatus.WriteError(w, kerrors.NewInternalError(fmt.Errorf("encode %s %q: %w", t.Resource.Kind, t.Name, err)))
		return
	}
	for _, msg := range res.Warnings {
		w.Header().Add("Warning", "299 - "+quote(msg))
	}
	w.Header().Set("Content-Type", "application/json")
	code := http.StatusOK
	if res.Created {
		code = http.StatusCreated
	}
	w.WriteHeader(code)
	_, _ = w.Write(out)
}

// PatchType reads the patch type from a Content-Type header (parameters such as charset are
// ignored). Anything but the four patch types is UnsupportedMediaType (415).
func PatchType(contentType string) (types.PatchType, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", unsupportedMediaType()
	}
	for _, a := range accepted {
		if mt == a {
			return types.PatchType(a), nil
		}
	}
	return "", unsupportedMediaType()
}

// PatchOptions reads a PATCH request's query: dryRun (repeatable), force, fieldManager and
// fieldValidation. A force that is not a boolean is a BadRequest; the values themselves are
// checked by Patcher.Patch.
func PatchOptions(q url.Values) (kmetav1.PatchOptions, error) {
	opts := kmetav1.PatchOptions{
		DryRun:          q["dryRun"],
		FieldManager:    q.Get("fieldManager"),
		FieldValidation: q.Get("fieldValidation"),
	}
	if v, ok := q["force"]; ok && len(v) > 0 {
		b, err := strconv.ParseBool(v[0])
		if err != nil {
			return opts, kerrors.NewBadRequest(fmt.Sprintf("force: invalid value %q: must be true or false", v[0]))
		}
		opts.Force = &b
	}
	return opts, nil
}

// readBody reads at most MaxBodyBytes; a longer body is RequestEntityTooLarge (413).
func readBody(body io.Reader) ([]byte, error) {
	if body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(body, MaxBodyBytes+1))
	if err != nil {
		return nil, kerrors.NewBadRequest(fmt.Sprintf("read request body: %v", err))
	}
	if len(b) > MaxBodyBytes {
		return nil, kerrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", MaxBodyBytes))
	}
	return b, nil
}

// quote writes a warning's text as the quoted-string of a Warning header (RFC 7234),
// replacing control characters.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
