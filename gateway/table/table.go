package table

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/berth-dev/berth/gateway/internal/mediatype"
	"github.com/berth-dev/berth/pkg/kubejson"
	"github.com/berth-dev/berth/pkg/printers"
	"github.com/berth-dev/berth/pkg/scheme"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// metaGroup is the API group of Table and PartialObjectMetadata.
const metaGroup = "meta.k8s.io"

// Options are what a request asks of its Table: the version of Table and what each row
// carries as its object.
type Options struct {
	// APIVersion is the Table's apiVersion: "meta.k8s.io/v1" or "meta.k8s.io/v1beta1".
	APIVersion string
	// IncludeObject is None, Metadata (the default: PartialObjectMetadata) or Object.
	IncludeObject kmetav1.IncludeObjectPolicy
	// Now is the time AGE cells are measured against; zero means time.Now().
	Now time.Time
}

// Negotiate tells whether r asks for a Table. It returns nil Options when the preferred
// acceptable media type is a plain one (application/json, */*, protobuf, YAML: the caller
// answers with the object itself), and an error to answer with when the request is bad: a
// 400 for an includeObject that is not None, Metadata or Object, a 406 when every media type
// it accepts is a transformation the gateway cannot make (a Table of another version,
// PartialObjectMetadata).
func Negotiate(r *http.Request) (*Options, error) {
	ranges := mediatype.Parse(strings.Join(r.Header.Values("Accept"), ","))
	for _, mr := range ranges {
		as := mr.Params["as"]
		if as == "" {
			return nil, nil
		}
		if as != "Table" || mr.Params["g"] != metaGroup || mr.MediaType() != "application/json" {
			continue
		}
		var apiVersion string
		switch mr.Params["v"] {
		case "v1":
			apiVersion = metaGroup + "/v1"
		case "v1beta1":
			apiVersion = metaGroup + "/v1beta1"
		default:
			continue
		}
		include := kmetav1.IncludeObjectPolicy(r.URL.Query().Get("includeObject"))
		switch include {
		case "":
			include = kmetav1.IncludeMetadata
		case kmetav1.IncludeNone, kmetav1.IncludeMetadata, kmetav1.IncludeObject:
		default:
			err := field.NotSupported(field.NewPath("includeObject"), include,
				[]string{string(kmetav1.IncludeMetadata), string(kmetav1.IncludeNone), string(kmetav1.IncludeObject)})
			return nil, kerrors.NewBadRequest(err.Error())
		}
		return &Options{APIVersion: apiVersion, IncludeObject: include}, nil
	}
	return nil, notAcceptable()
}

// notAcceptable is the 406 Status of a request whose Accept header lists nothing the gateway
// can answer with.
func notAcceptable() error {
	return &kerrors.StatusError{ErrStatus: kmetav1.Status{
		Status:  kmetav1.StatusFailure,
		Code:    http.StatusNotAcceptable,
		Reason:  kmetav1.StatusReasonNotAcceptable,
		Message: "only the following media types are accepted: application/json, application/json;as=Table;v=v1;g=meta.k8s.io, application/json;as=Table;v=v1beta1;g=meta.k8s.io",
	}}
}

// ContentType is the Content-Type of a Table response.
func (o *Options) ContentType() string {
	v := strings.TrimPrefix(o.APIVersion, metaGroup+"/")
	return "application/json;as=Table;v=" + v + ";g=" + metaGroup
}

func (o *Options) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

// List returns the Table of a list of objects of resource r; list is the list's metadata
// (resourceVersion, continue, remainingItemCount), nil when there is none.
func (o *Options) List(r *scheme.Resource, objs []scheme.Object, list *metav1.ListMeta) (*kmetav1.Table, error) {
	t, err := o.table(r, objs, true)
	if err != nil {
		return nil, err
	}
	t.ResourceVersion = list.GetResourceVersion()
	t.Continue = list.GetContinue()
	if list != nil && list.RemainingItemCount != nil {
		n := list.GetRemainingItemCount()
		t.RemainingItemCount = &n
	}
	return t, nil
}

// Object returns the Table of one object of resource r (a GET of one name).
func (o *Options) Object(r *scheme.Resource, obj scheme.Object) (*kmetav1.Table, error) {
	t, err := o.table(r, []scheme.Object{obj}, true)
	if err != nil {
		return nil, err
	}
	t.ResourceVersion = obj.GetMetadata().GetResourceVersion()
	return t, nil
}

func (o *Options) table(r *scheme.Resource, objs []scheme.Object, headers bool) (*kmetav1.Table, error) {
	t := &kmetav1.Table{
		TypeMeta: kmetav1.TypeMeta{APIVersion: o.APIVersion, Kind: "Table"},
		Rows:     make([]kmetav1.TableRow, 0, len(objs)),
	}
	if headers {
		t.ColumnDefinitions = definitions(r)
	}
	now := o.now()
	for _, obj := range objs {
		row, err := o.row(r, obj, now)
		if err != nil {
			return nil, err
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// row is one object's row: its cells, typed as the column definitions say, and its object.
func (o *Options) row(r *scheme.Resource, obj scheme.Object, now time.Time) (kmetav1.TableRow, error) {
	opts := printerOptions
	opts.Now = now
	cells := printers.Row(r, obj, opts)
	cols := columnsFor(r)
	if len(cells) != len(cols) {
		return kmetav1.TableRow{}, fmt.Errorf("table of %s: %d cells for %d columns", r.Kind, len(cells), len(cols))
	}
	row := kmetav1.TableRow{Cells: make([]any, len(cells))}
	for i, c := range cells {
		row.Cells[i] = c
		if cols[i].integer {
			if n, err := strconv.ParseInt(c, 10, 64); err == nil {
				row.Cells[i] = n
			}
		}
	}
	var err error
	switch o.IncludeObject {
	case kmetav1.IncludeObject:
		row.Object.Raw, err = kubejson.Marshal(obj)
	case kmetav1.IncludeNone:
	default:
		row.Object.Raw, err = partialObjectMetadata(o.APIVersion, obj)
	}
	if err != nil {
		return kmetav1.TableRow{}, fmt.Errorf("table row of %s %q: %w", r.Kind, obj.GetMetadata().GetName(), err)
	}
	return row, nil
}

// partialObjectMetadata is the PartialObjectMetadata of obj: its metadata, as Kubernetes
// writes it, in the Table's API version.
func partialObjectMetadata(apiVersion string, obj scheme.Object) ([]byte, error) {
	md, err := kubejson.Marshal(scheme.Meta(obj))
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(md)+96)
	b = append(b, `{"apiVersion":`...)
	b = strconv.AppendQuote(b, apiVersion)
	b = append(b, `,"kind":"PartialObjectMetadata","metadata":`...)
	b = append(b, md...)
	return append(b, '}'), nil
}

// Write answers a request with t and HTTP 200.
func (o *Options) Write(w http.ResponseWriter, t *kmetav1.Table) error {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encoding table: %w", err)
	}
	w.Header().Set("Content-Type", o.ContentType())
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(b)
	return err
}

// WriteList answers a list request with the Table of objs (see List).
func (o *Options) WriteList(w http.ResponseWriter, r *scheme.Resource, objs []scheme.Object, list *metav1.ListMeta) error {
	t, err := o.List(r, objs, list)
	if err != nil {
		return err
	}
	return o.Write(w, t)
}

// WriteObject answers a get request with the Table of obj (see Object).
func (o *Options) WriteObject(w http.ResponseWriter, r *scheme.Resource, obj scheme.Object) error {
	t, err := o.Object(r, obj)
	if err != nil {
		return err
	}
	return o.Write(w, t)
}

// WatchEncoder encodes the events of one watch as Tables, one row each. The first event's
// Table carries the column definitions and the later ones do not, as the Kubernetes
// apiserver writes them. It is not safe for concurrent use.
type WatchEncoder struct {
	o    *Options
	r    *scheme.Resource
	sent bool
}

// NewWatchEncoder returns an encoder for a watch of resource r.
func (o *Options) NewWatchEncoder(r *scheme.Resource) *WatchEncoder {
	return &WatchEncoder{o: o, r: r}
}

// Encode returns one line of the watch stream, without the newline:
// {"type":"ADDED","object":{"kind":"Table",...}}. eventType is ADDED, MODIFIED, DELETED or
// BOOKMARK; a BOOKMARK's Table has no rows and carries obj's resourceVersion. ERROR events
// carry a Status, not a Table: the caller writes them itself.
func (e *WatchEncoder) Encode(eventType string, obj scheme.Object) ([]byte, error) {
	var objs []scheme.Object
	if eventType != "BOOKMARK" {
		objs = []scheme.Object{obj}
	}
	t, err := e.o.table(e.r, objs, !e.sent)
	if err != nil {
		return nil, err
	}
	t.ResourceVersion = obj.GetMetadata().GetResourceVersion()
	e.sent = true
	b, err := json.Marshal(struct {
		Type   string         `json:"type"`
		Object *kmetav1.Table `json:"object"`
	}{eventType, t})
	if err != nil {
		return nil, fmt.Errorf("encoding %s watch event: %w", eventType, err)
	}
	return b, nil
}
