package patch

import (
	"encoding/json"
	"testing"
)

func TestPrune(t *testing.T) {
	cases := []struct {
		name, doc, path, want string
		ok                    bool
	}{
		{"top level", `{"a":1,"b":2}`, "b", `{"a":1}`, true},
		{"nested", `{"spec":{"x":1,"y":2}}`, "spec.y", `{"spec":{"x":1}}`, true},
		{"in a list", `{"c":[{"n":1},{"n":2,"bad":3}]}`, "c[1].bad", `{"c":[{"n":1},{"n":2}]}`, true},
		{"list in a list", `{"c":[[{"bad":1}]]}`, "c[0][0].bad", `{"c":[[{}]]}`, true},
		{"in a map value", `{"m":{"k":{"bad":1,"ok":2}}}`, "m[k].bad", `{"m":{"k":{"ok":2}}}`, true},
		{"a map key with dots", `{"m":{"a.b":{"bad":1}}}`, "m[a.b].bad", `{"m":{"a.b":{}}}`, true},
		{"a field with a dot", `{"a.b":1,"a":{"b":2}}`, "a.b", `{"a":{"b":2}}`, true},
		{"backtracks past a prefix", `{"a":{"c":1},"ab":{"c":2}}`, "ab.c", `{"a":{"c":1},"ab":{}}`, true},
		{"missing", `{"a":1}`, "b", `{"a":1}`, false},
		{"index out of range", `{"c":[{"x":1}]}`, "c[3].x", `{"c":[{"x":1}]}`, false},
		{"bad index", `{"c":[{"x":1}]}`, "c[x].x", `{"c":[{"x":1}]}`, false},
		{"a list item itself", `{"c":[1,2]}`, "c[0]", `{"c":[1,2]}`, false},
		{"through a scalar", `{"a":1}`, "a.b", `{"a":1}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var doc any
			if err := json.Unmarshal([]byte(tc.doc), &doc); err != nil {
				t.Fatal(err)
			}
			if ok := prune(doc, tc.path); ok != tc.ok {
				t.Errorf("prune = %v, want %v", ok, tc.ok)
			}
			got, _ := json.Marshal(doc)
			if !jsonEqual(string(got), tc.want) {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
