package table

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
	kappsv1 "k8s.io/api/apps/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-dev/berth/pkg/printers"
	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// TestColumnsMatchPrinters checks that for every kind the Kubernetes column definitions are
// the columns pkg/printers fills, in the same order, and that priority 1 marks exactly the
// columns of -o wide.
func TestColumnsMatchPrinters(t *testing.T) {
	for _, r := range scheme.All {
		t.Run(r.Kind, func(t *testing.T) {
			all := printers.Columns(r, printers.Options{Wide: true})
			narrow := map[string]bool{}
			for _, c := range printers.Columns(r, printers.Options{}) {
				narrow[c] = true
			}
			defs := definitions(r)
			if len(defs) != len(all) {
				t.Fatalf("%d column definitions, printers has %d columns %v", len(defs), len(all), all)
			}
			for i, d := range defs {
				if got := strings.ToUpper(d.Name); got != all[i] {
					t.Errorf("column %d: %q (kubectl shows %q), printers has %q", i, d.Name, got, all[i])
				}
				if wantPriority := map[bool]int32{true: 0, false: 1}[narrow[all[i]]]; d.Priority != wantPriority {
					t.Errorf("column %q: priority %d, want %d", d.Name, d.Priority, wantPriority)
				}
				if d.Type != "string" && d.Type != "integer" {
					t.Errorf("column %q: type %q", d.Name, d.Type)
				}
				if d.Description == "" {
					t.Errorf("column %q has no description", d.Name)
				}
			}
		})
	}
}

func TestNegotiate(t *testing.T) {
	const v1 = "application/json;as=Table;v=v1;g=meta.k8s.io"
	const kubectl = v1 + ",application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
	tests := []struct {
		name   string
		accept []string
		query  string
		want   *Options
		code   int32 // of the error, 0 for none
	}{
		{name: "no accept", want: nil},
		{name: "plain json", accept: []string{"application/json"}, want: nil},
		{name: "protobuf first", accept: []string{"application/vnd.kubernetes.protobuf,application/json"}, want: nil},
		{name: "kubectl get", accept: []string{kubectl}, want: &Options{APIVersion: "meta.k8s.io/v1", IncludeObject: kmetav1.IncludeMetadata}},
		{name: "v1beta1", accept: []string{"application/json;as=Table;v=v1beta1;g=meta.k8s.io"}, want: &Options{APIVersion: "meta.k8s.io/v1beta1", IncludeObject: kmetav1.IncludeMetadata}},
		{name: "protobuf table skipped", accept: []string{"application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io," + kubectl}, want: &Options{APIVersion: "meta.k8s.io/v1", IncludeObject: kmetav1.IncludeMetadata}},
		{name: "json preferred by quality", accept: []string{v1 + ";q=0.5,application/json"}, want: nil},
		{name: "several headers", accept: []string{v1, "application/json"}, want: &Options{APIVersion: "meta.k8s.io/v1", IncludeObject: kmetav1.IncludeMetadata}},
		{name: "include object", accept: []string{kubectl}, query: "includeObject=Object", want: &Options{APIVersion: "meta.k8s.io/v1", IncludeObject: kmetav1.IncludeObject}},
		{name: "include none", accept: []string{kubectl}, query: "includeObject=None", want: &Options{APIVersion: "meta.k8s.io/v1", IncludeObject: kmetav1.IncludeNone}},
		{name: "bad include", accept: []string{kubectl}, query: "includeObject=All", code: 400},
		{name: "include ignored without table", accept: []string{"application/json"}, query: "includeObject=All", want: nil},
		{name: "unknown table version only", accept: []string{"application/json;as=Table;v=v2;g=meta.k8s.io"}, code: 406},
		{name: "partial metadata only", accept: []string{"application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"}, code: 406},
		{name: "unknown transformation, then json", accept: []string{"application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json"}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/api/v1/pods?"+tt.query, nil)
			for _, a := range tt.accept {
				r.Header.Add("Accept", a)
			}
			got, err := Negotiate(r)
			if tt.code != 0 {
				var se *kerrors.StatusError
				if !asStatus(err, &se) || se.ErrStatus.Code != tt.code {
					t.Fatalf("Negotiate: err %v, want a Status with code %d", err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("Negotiate: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Negotiate = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func asStatus(err error, se **kerrors.StatusError) bool {
	s, ok := err.(*kerrors.StatusError)
	*se = s
	return ok
}

func TestBadIncludeMessage(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/api/v1/pods?includeObject=All", nil)
	r.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	_, err := Negotiate(r)
	want := `includeObject: Unsupported value: "All": supported values: "Metadata", "None", "Object"`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
	if !kerrors.IsBadRequest(err) {
		t.Errorf("err is not a BadRequest: %#v", err)
	}
}

var now = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func ts(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(now.Add(-d)) }

func pod(name string, restarts int32) *corev1.Pod {
	return &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: "shop", Uid: "u-" + name, ResourceVersion: "12", Labels: map[string]string{"app": "web"}, CreationTimestamp: ts(5 * time.Minute)},
		Spec:     &corev1.PodSpec{NodeName: "n1", Containers: []*corev1.Container{{Name: "app", Image: "nginx"}}},
		Status: &corev1.PodStatus{Phase: "Running", PodIp: "10.0.0.7", ContainerStatuses: []*corev1.ContainerStatus{{
			Name: "app", Ready: true, RestartCount: restarts,
			State: &corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ts(time.Minute)}},
		}}},
	}
}

// decodeStrict decodes JSON into v, failing on unknown fields.
func decodeStrict(t *testing.T, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decoding %T: %v\n%s", v, err, b)
	}
}

func TestListTable(t *testing.T) {
	rc := int64(3)
	o := &Options{APIVersion: "meta.k8s.io/v1", IncludeObject: kmetav1.IncludeMetadata, Now: now}
	rec := httptest.NewRecorder()
	if err := o.WriteList(rec, scheme.Pods, []scheme.Object{pod("a", 0), pod("b", 2)}, &metav1.ListMeta{ResourceVersion: "40", Continue: "tok", RemainingItemCount: &rc}); err != nil {
		t.Fatal(err)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json;as=Table;v=v1;g=meta.k8s.io" {
		t.Errorf("Content-Type %q", ct)
	}
	var tbl kmetav1.Table
	decodeStrict(t, rec.Body.Bytes(), &tbl)
	if tbl.Kind != "Table" || tbl.APIVersion != "meta.k8s.io/v1" || tbl.ResourceVersion != "40" || tbl.Continue != "tok" || tbl.RemainingItemCount == nil || *tbl.RemainingItemCount != 3 {
		t.Errorf("table meta: %+v %+v", tbl.TypeMeta, tbl.ListMeta)
	}
	var names []string
	for _, c := range tbl.ColumnDefinitions {
		if c.Priority == 0 {
			names = append(names, c.Name)
		}
	}
	if got := strings.Join(names, ","); got != "Name,Ready,Status,Restarts,Age" {
		t.Errorf("columns %s", got)
	}
	want := [][]any{
		{"a", "1/1", "Running", "0", "5m", "10.0.0.7", "n1", "<none>", "<none>"},
		{"b", "1/1", "Running", "2", "5m", "10.0.0.7", "n1", "<none>", "<none>"},
	}
	if len(tbl.Rows) != 2 {
		t.Fatalf("%d rows", len(tbl.Rows))
	}
	for i, row := range tbl.Rows {
		if !reflect.DeepEqual(row.Cells, want[i]) {
			t.Errorf("row %d cells %#v, want %#v", i, row.Cells, want[i])
		}
		var pom kmetav1.PartialObjectMetadata
		decodeStrict(t, row.Object.Raw, &pom)
		if pom.Kind != "PartialObjectMetadata" || pom.APIVersion != "meta.k8s.io/v1" || pom.Namespace != "shop" || pom.Labels["app"] != "web" || pom.ResourceVersion != "12" || pom.CreationTimestamp.IsZero() {
			t.Errorf("row %d object %s", i, row.Object.Raw)
		}
	}
}

func TestIntegerCells(t *testing.T) {
	replicas := int32(3)
	d := &appsv1.Deployment{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "shop", CreationTimestamp: ts(2 * time.Hour)},
		Spec:     &appsv1.DeploymentSpec{Replicas: &replicas},
		Status:   &appsv1.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 2},
	}
	cm := &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Name: "cfg"}, Data: map[string]string{"a": "1", "b": "2"}}
	tests := []struct {
		r    *scheme.Resource
		obj  scheme.Object
		want []any
	}{
		{scheme.Deployments, d, []any{"web", "2/3", float64(3), float64(2), "120m", "", "", "<none>"}},
		{scheme.ConfigMaps, cm, []any{"cfg", float64(2), "<unknown>"}},
	}
	for _, tt := range tests {
		t.Run(tt.r.Kind, func(t *testing.T) {
			o := &Options{APIVersion: "meta.k8s.io/v1", IncludeObject: kmetav1.IncludeNone, Now: now}
			rec := httptest.NewRecorder()
			if err := o.WriteObject(rec, tt.r, tt.obj); err != nil {
				t.Fatal(err)
			}
			var tbl kmetav1.Table
			decodeStrict(t, rec.Body.Bytes(), &tbl)
			if len(tbl.Rows) != 1 {
				t.Fatalf("%d rows", len(tbl.Rows))
			}
			if !reflect.DeepEqual(tbl.Rows[0].Cells, tt.want) {
				t.Errorf("cells %#v, want %#v", tbl.Rows[0].Cells, tt.want)
			}
			if tbl.Rows[0].Object.Raw != nil && string(tbl.Rows[0].Object.Raw) != "null" {
				t.Errorf("includeObject=None wrote an object: %s", tbl.Rows[0].Object.Raw)
			}
		})
	}
}

func TestIncludeObject(t *testing.T) {
	replicas := int32(2)
	d := &appsv1.Deployment{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: &appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c", Image: "nginx"}}}}},
	}
	o := &Options{APIVersion: "meta.k8s.io/v1", IncludeObject: kmetav1.IncludeObject, Now: now}
	tbl, err := o.Object(scheme.Deployments, d)
	if err != nil {
		t.Fatal(err)
	}
	var kd kappsv1.Deployment
	decodeStrict(t, tbl.Rows[0].Object.Raw, &kd)
	if kd.Kind != "Deployment" || kd.APIVersion != "apps/v1" || *kd.Spec.Replicas != 2 || kd.Spec.Template.Spec.Containers[0].Image != "nginx" {
		t.Errorf("object %s", tbl.Rows[0].Object.Raw)
	}
}

func TestWatchEncoder(t *testing.T) {
	o := &Options{APIVersion: "meta.k8s.io/v1", IncludeObject: kmetav1.IncludeMetadata, Now: now}
	e := o.NewWatchEncoder(scheme.Pods)
	bookmark := &corev1.Pod{Metadata: &metav1.ObjectMeta{ResourceVersion: "99"}}
	steps := []struct {
		typ     string
		obj     scheme.Object
		columns bool
		rows    int
	}{
		{"ADDED", pod("a", 0), true, 1},
		{"MODIFIED", pod("a", 1), false, 1},
		{"BOOKMARK", bookmark, false, 0},
		{"DELETED", pod("a", 1), false, 1},
	}
	for _, s := range steps {
		b, err := e.Encode(s.typ, s.obj)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.ContainsRune(b, '\n') {
			t.Errorf("event has a newline: %s", b)
		}
		var ev struct {
			Type   string        `json:"type"`
			Object kmetav1.Table `json:"object"`
		}
		decodeStrict(t, b, &ev)
		if ev.Type != s.typ || ev.Object.Kind != "Table" {
			t.Errorf("%s: event %s", s.typ, b)
		}
		if got := len(ev.Object.ColumnDefinitions) > 0; got != s.columns {
			t.Errorf("%s: column definitions %v, want %v", s.typ, got, s.columns)
		}
		if len(ev.Object.Rows) != s.rows {
			t.Errorf("%s: %d rows, want %d", s.typ, len(ev.Object.Rows), s.rows)
		}
		if ev.Object.ResourceVersion != s.obj.GetMetadata().GetResourceVersion() {
			t.Errorf("%s: resourceVersion %q", s.typ, ev.Object.ResourceVersion)
		}
	}
}

// TestEveryKind builds a Table of an empty object of every kind the scheme serves: no kind
// lacks columns, and every row decodes.
func TestEveryKind(t *testing.T) {
	for _, r := range scheme.All {
		o := &Options{APIVersion: "meta.k8s.io/v1", Now: now}
		tbl, err := o.Object(r, r.New())
		if err != nil {
			t.Errorf("%s: %v", r.Kind, err)
			continue
		}
		if len(tbl.Rows) != 1 || len(tbl.Rows[0].Cells) != len(tbl.ColumnDefinitions) {
			t.Errorf("%s: %d rows, %d columns", r.Kind, len(tbl.Rows), len(tbl.ColumnDefinitions))
		}
	}
}

func FuzzNegotiate(f *testing.F) {
	for _, s := range []struct{ accept, query string }{
		{"application/json;as=Table;v=v1;g=meta.k8s.io,application/json", "includeObject=Object"},
		{"application/json;as=Table;v=v1beta1;g=meta.k8s.io", ""},
		{"application/json;as=Table;v=v9;g=meta.k8s.io", "includeObject=x"},
		{"*/*", ""},
		{"", "includeObject=%zz"},
	} {
		f.Add(s.accept, s.query)
	}
	f.Fuzz(func(t *testing.T, accept, query string) {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/pods", nil)
		r.URL.RawQuery = query
		r.Header.Set("Accept", accept)
		o, err := Negotiate(r)
		if err != nil {
			if !kerrors.IsBadRequest(err) && !kerrors.IsNotAcceptable(err) {
				t.Fatalf("error %v is neither 400 nor 406", err)
			}
			return
		}
		if o != nil && o.APIVersion != "meta.k8s.io/v1" && o.APIVersion != "meta.k8s.io/v1beta1" {
			t.Fatalf("options %+v", o)
		}
	})
}
