package openapi

import (
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/berth-dev/berth/gateway/httpstatus"
	"github.com/berth-dev/berth/pkg/scheme"
)

// Options configure the OpenAPI handler.
type Options struct {
	// Version is the documents' info.version ("v1.32.3+berth.v0.3.0"); empty means "unversioned".
	Version string
	// Resources are the resources to document; nil means scheme.All.
	Resources []*scheme.Resource
}

// Paths the handler serves.
const (
	// V3 is the index of the OpenAPI v3 documents.
	V3 = "/openapi/v3"
	// V3Prefix prefixes every group version's document: /openapi/v3/api/v1.
	V3Prefix = "/openapi/v3/"
	// V2 is the OpenAPI v2 document, which the gateway does not serve (404).
	V2 = "/openapi/v2"
)

type document struct {
	body []byte
	hash string
}

// Handler serves /openapi/v3, the per-group-version documents and a 404 for /openapi/v2.
// The documents are generated once, by New.
type Handler struct {
	index []byte
	docs  map[string]document
	json  map[string]*Document
}

// New generates the OpenAPI v3 documents of opts.Resources.
func New(opts Options) (*Handler, error) {
	resources := opts.Resources
	if resources == nil {
		resources = scheme.All
	}
	version := opts.Version
	if version == "" {
		version = "unversioned"
	}
	b, err := build(resources, version)
	if err != nil {
		return nil, err
	}
	docs, order := b.docs, b.order
	h := &Handler{docs: map[string]document{}, json: docs}
	type entry struct {
		ServerRelativeURL string `json:"serverRelativeURL"`
	}
	index := struct {
		Paths map[string]entry `json:"paths"`
	}{Paths: map[string]entry{}}
	for _, key := range order {
		b, err := json.Marshal(docs[key])
		if err != nil {
			return nil, fmt.Errorf("encoding the OpenAPI document of %s: %w", key, err)
		}
		hash := fmt.Sprintf("%X", sha512.Sum512(b))
		h.docs[key] = document{body: b, hash: hash}
		index.Paths[key] = entry{ServerRelativeURL: V3Prefix + key + "?hash=" + hash}
	}
	if h.index, err = json.Marshal(index); err != nil {
		return nil, fmt.Errorf("encoding the OpenAPI index: %w", err)
	}
	return h, nil
}

// Document returns the document of a group version ("api/v1", "apis/apps/v1"), or nil.
func (h *Handler) Document(groupVersion string) *Document { return h.json[groupVersion] }

// ServeHTTP answers GET and HEAD of /openapi/v3 and /openapi/v3/{group version}. A request
// for a document with a hash that is not the current one is redirected to the current one,
// as the Kubernetes apiserver does; with the current hash the answer may be cached forever.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		httpstatus.WriteError(w, kerrors.NewGenericServerResponse(http.StatusMethodNotAllowed, strings.ToLower(r.Method), schema.GroupResource{}, "", "", 0, false))
		return
	}
	path := strings.TrimSuffix(r.URL.Path, "/")
	if path == V3 {
		write(w, r, h.index, `"`+fmt.Sprintf("%X", sha512.Sum512(h.index))[:32]+`"`, "no-cache, private")
		return
	}
	d, ok := h.docs[strings.TrimPrefix(path, V3Prefix)]
	if !ok || !strings.HasPrefix(path, V3Prefix) {
		httpstatus.WriteError(w, kerrors.NewGenericServerResponse(http.StatusNotFound, "get", schema.GroupResource{}, "", "", 0, false))
		return
	}
	cache := "no-cache, private"
	if hash := r.URL.Query().Get("hash"); hash != "" {
		if hash != d.hash {
			http.Redirect(w, r, path+"?hash="+d.hash, http.StatusMovedPermanently)
			return
		}
		cache = "public, immutable"
	}
	write(w, r, d.body, `"`+d.hash[:32]+`"`, cache)
}

func write(w http.ResponseWriter, r *http.Request, body []byte, etag, cache string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", cache)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
}
