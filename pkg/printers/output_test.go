package printers

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func TestPrinters(t *testing.T) {
	cm := func(name string) scheme.Object {
		return &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Name: name, Namespace: "default"}, Data: map[string]string{"k": "v"}}
	}
	tests := []struct {
		name string
		cfg  Config
		objs []scheme.Object
		want string
	}{
		{"name", Config{Output: "name"}, []scheme.Object{cm("a"), cm("b")}, "configmap/a\nconfigmap/b\n"},
		{"json single", Config{Output: "json", SingleItem: true}, []scheme.Object{cm("a")},
			"{\n    \"apiVersion\": \"v1\",\n    \"data\": {\n        \"k\": \"v\"\n    },\n    \"kind\": \"ConfigMap\",\n    \"metadata\": {\n        \"name\": \"a\",\n        \"namespace\": \"default\"\n    }\n}\n"},
		{"yaml single", Config{Output: "yaml", SingleItem: true}, []scheme.Object{cm("a")},
			"apiVersion: v1\ndata:\n  k: v\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: default\n"},
		{"yaml list of one", Config{Output: "yaml"}, []scheme.Object{cm("a")},
			"apiVersion: v1\nitems:\n- apiVersion: v1\n  data:\n    k: v\n  kind: ConfigMap\n  metadata:\n    name: a\n    namespace: default\nkind: List\nmetadata:\n  resourceVersion: \"\"\n"},
		{"json empty list", Config{Output: "json"}, nil,
			"{\n    \"apiVersion\": \"v1\",\n    \"items\": [],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n"},
		{"yaml stream", Config{Output: "yaml", Stream: true}, []scheme.Object{cm("a"), cm("b")},
			"apiVersion: v1\ndata:\n  k: v\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: default\n---\napiVersion: v1\ndata:\n  k: v\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: default\n"},
		{"wide table", Config{Output: "wide", Table: Options{Now: now}}, []scheme.Object{cm("a")}, "NAME   DATA   AGE\na      1      <unknown>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			p, err := New(&b, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Print(scheme.ConfigMaps, tt.objs); err != nil {
				t.Fatal(err)
			}
			if err := p.Flush(); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}

func TestUnknownFormat(t *testing.T) {
	_, err := New(&strings.Builder{}, Config{Output: "jsonpath"})
	if err == nil || !strings.Contains(err.Error(), `output format "jsonpath"`) {
		t.Errorf("err = %v, want an unknown format error", err)
	}
}
