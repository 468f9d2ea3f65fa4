package discovery

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"

	"github.com/berth-dev/berth/gateway/httpstatus"
	"github.com/berth-dev/berth/gateway/internal/mediatype"
	"github.com/berth-dev/berth/pkg/scheme"
)

// Options configure the discovery handler.
type Options struct {
	// Version is Berth's version ("v0.3.0", "dev"); /version reports it after the Kubernetes
	// version Berth's API mirrors: "v1.32.3+berth.v0.3.0".
	Version string
	// GitCommit and BuildDate, when known, are reported by /version.
	GitCommit, BuildDate string
	// Resources are the resources to describe; nil means scheme.All.
	Resources []*scheme.Resource
}

// document is one precomputed response: its body and ETag.
type document struct {
	body []byte
	etag string
}

func newDocument(v any) (document, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return document{}, err
	}
	sum := sha256.Sum256(b)
	return document{body: b, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}, nil
}

// Handler serves the discovery endpoints. Its documents are computed once, by New.
type Handler struct {
	// docs are the plain documents by path; aggregated the aggregated ones of /api and /apis.
	docs       map[string]document
	aggregated map[string]document
	paths      []string
}

// Aggregated discovery's media type: Content-Type of the response, and the Accept a client
// sends for it.
const (
	aggregatedGroup = "apidiscovery.k8s.io"
	aggregatedAs    = "APIGroupDiscoveryList"
)

// New builds the discovery documents of opts.Resources.
func New(opts Options) (*Handler, error) {
	resources := opts.Resources
	if resources == nil {
		resources = scheme.All
	}
	h := &Handler{docs: map[string]document{}, aggregated: map[string]document{}}
	add := func(path string, v any) error {
		d, err := newDocument(v)
		if err != nil {
			return fmt.Errorf("discovery document %s: %w", path, err)
		}
		h.docs[path] = d
		h.paths = append(h.paths, path)
		return nil
	}
	if err := add("/version", versionInfo(opts)); err != nil {
		return nil, err
	}
	gvs := groupVersions(resources)
	apis := &kmetav1.APIGroupList{TypeMeta: kmetav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}, Groups: []kmetav1.APIGroup{}}
	core := &kmetav1.APIVersions{TypeMeta: kmetav1.TypeMeta{Kind: "APIVersions"}}
	coreAgg := aggregatedList()
	apisAgg := aggregatedList()
	for _, gv := range gvs {
		path := "/apis/" + gv.String()
		if gv.group == "" {
			path = "/api/" + gv.version
			core.Versions = append(core.Versions, gv.version)
			coreAgg.Items = append(coreAgg.Items, groupDiscovery(gv))
		} else {
			g := apiGroup(gv)
			apis.Groups = append(apis.Groups, g)
			apisAgg.Items = append(apisAgg.Items, groupDiscovery(gv))
			if err := add("/apis/"+gv.group, g); err != nil {
				return nil, err
			}
		}
		if err := add(path, resourceList(gv)); err != nil {
			return nil, err
		}
	}
	if err := add("/api", core); err != nil {
		return nil, err
	}
	if err := add("/apis", apis); err != nil {
		return nil, err
	}
	for path, v := range map[string]*apidiscoveryv2.APIGroupDiscoveryList{"/api": coreAgg, "/apis": apisAgg} {
		d, err := newDocument(v)
		if err != nil {
			return nil, fmt.Errorf("aggregated discovery %s: %w", path, err)
		}
		h.aggregated[path] = d
	}
	return h, nil
}

func aggregatedList() *apidiscoveryv2.APIGroupDiscoveryList {
	return &apidiscoveryv2.APIGroupDiscoveryList{
		TypeMeta: kmetav1.TypeMeta{Kind: aggregatedAs, APIVersion: aggregatedGroup + "/v2"},
		Items:    []apidiscoveryv2.APIGroupDiscovery{},
	}
}

// Paths are the exact paths the handler serves, for mounting it on a mux: /version, /api,
// /apis, /api/v1, /apis/{group} and /apis/{group}/{version}.
func (h *Handler) Paths() []string { return append([]string(nil), h.paths...) }

// ServeHTTP answers GET and HEAD of the discovery paths; any other path is a 404 and any
// other method a 405, each with a Status body.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	d, ok := h.docs[path]
	if !ok {
		httpstatus.WriteError(w, kerrors.NewGenericServerResponse(http.StatusNotFound, "get", schema.GroupResource{}, "", "", 0, false))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		httpstatus.WriteError(w, kerrors.NewGenericServerResponse(http.StatusMethodNotAllowed, strings.ToLower(r.Method), schema.GroupResource{}, "", "", 0, false))
		return
	}
	contentType := "application/json"
	if agg, ok := h.aggregated[path]; ok {
		if ct := aggregatedContentType(r); ct != "" {
			d, contentType = agg, ct
		}
		w.Header().Set("Vary", "Accept")
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("ETag", d.etag)
	if match := r.Header.Get("If-None-Match"); match != "" && match == d.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(d.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(d.body)
	}
}

// aggregatedContentType is the Content-Type of the aggregated discovery answer when the
// request's most preferred acceptable media type is aggregated discovery in JSON, and ""
// when the plain document should be served. The aggregated document is the same in v2 and
// v2beta1, so both are answered; protobuf is skipped in favour of the next choice.
func aggregatedContentType(r *http.Request) string {
	for _, mr := range mediatype.Parse(strings.Join(r.Header.Values("Accept"), ",")) {
		as := mr.Params["as"]
		if as == "" {
			return ""
		}
		if as != aggregatedAs || mr.Params["g"] != aggregatedGroup || mr.MediaType() != "application/json" {
			continue
		}
		if v := mr.Params["v"]; v == "v2" {
			return "application/json;g=" + aggregatedGroup + ";v=" + v + ";as=" + aggregatedAs
		}
	}
	return ""
}

// kubernetesVersion is the Kubernetes release whose API Berth mirrors: that of the
// k8s.io/api module it is built with (v0.32.3 is Kubernetes v1.32.3).
func kubernetesVersion() (major, minor, full string) {
	major, minor, full = "1", "32", "v1.32.3"
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	for _, dep := range info.Deps {
		if dep.Path != "k8s.io/api" {
			continue
		}
		var maj, min, patch int
		if _, err := fmt.Sscanf(dep.Version, "v%d.%d.%d", &maj, &min, &patch); err == nil && maj == 0 {
			return "1", fmt.Sprint(min), fmt.Sprintf("v1.%d.%d", min, patch)
		}
	}
	return
}

// versionInfo is the /version document.
func versionInfo(opts Options) version.Info {
	major, minor, full := kubernetesVersion()
	if v := buildMetadata(opts.Version); v != "" {
		full += "+berth." + v
	}
	return version.Info{
		Major: major, Minor: minor, GitVersion: full,
		GitCommit: opts.GitCommit, BuildDate: opts.BuildDate,
		GoVersion: runtime.Version(), Compiler: runtime.Compiler, Platform: runtime.GOOS + "/" + runtime.GOARCH,
	}
}

// buildMetadata makes s valid as semver build metadata: [0-9A-Za-z-] in dot-separated parts.
func buildMetadata(s string) string {
	var b strings.Builder
	for _, c := range strings.TrimPrefix(s, "+") {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-', c == '.':
			b.WriteRune(c)
		default:
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), ".")
}
