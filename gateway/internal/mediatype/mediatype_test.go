package mediatype

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   []Range
	}{
		{"empty", "", []Range{{Type: "*", Subtype: "*", Q: 1}}},
		{"kubectl table", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json", []Range{
			{Type: "application", Subtype: "json", Params: map[string]string{"as": "Table", "v": "v1", "g": "meta.k8s.io"}, Q: 1},
			{Type: "application", Subtype: "json", Params: map[string]string{"as": "Table", "v": "v1beta1", "g": "meta.k8s.io"}, Q: 1},
			{Type: "application", Subtype: "json", Q: 1},
		}},
		{"quality orders, stable", "text/plain;q=0.5, application/json, */*;q=0.8, application/yaml", []Range{
			{Type: "application", Subtype: "json", Q: 1},
			{Type: "application", Subtype: "yaml", Q: 1},
			{Type: "*", Subtype: "*", Q: 0.8},
			{Type: "text", Subtype: "plain", Q: 0.5},
		}},
		{"q=0 and garbage left out", "application/json;q=0, ;;, nonsense, application/yaml", []Range{
			{Type: "application", Subtype: "yaml", Q: 1},
		}},
		{"quoted comma", `application/json;x="a,b", text/html`, []Range{
			{Type: "application", Subtype: "json", Params: map[string]string{"x": "a,b"}, Q: 1},
			{Type: "text", Subtype: "html", Q: 1},
		}},
		{"case folded", "Application/JSON;AS=Table", []Range{
			{Type: "application", Subtype: "json", Params: map[string]string{"as": "Table"}, Q: 1},
		}},
		{"bad q is 1", "application/json;q=abc", []Range{{Type: "application", Subtype: "json", Q: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Parse(tt.header); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) =\n %+v\nwant\n %+v", tt.header, got, tt.want)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		r    Range
		t    string
		want bool
	}{
		{Range{Type: "*", Subtype: "*"}, "application/json", true},
		{Range{Type: "application", Subtype: "*"}, "application/json", true},
		{Range{Type: "application", Subtype: "json"}, "application/json", true},
		{Range{Type: "application", Subtype: "yaml"}, "application/json", false},
		{Range{Type: "text", Subtype: "*"}, "application/json", false},
	}
	for _, tt := range tests {
		if got := tt.r.Matches(tt.t); got != tt.want {
			t.Errorf("%s matches %s = %v, want %v", tt.r.MediaType(), tt.t, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "application/json", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json", `a/b;x="q,\"r"`, "*/*;q=0.1", ";,;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		rs := Parse(h)
		for i, r := range rs {
			if r.Q <= 0 || r.Q > 1 || r.Type == "" || r.Subtype == "" {
				t.Fatalf("bad range %+v", r)
			}
			if i > 0 && rs[i-1].Q < r.Q {
				t.Fatalf("not sorted: %+v", rs)
			}
		}
	})
}
