package manifest_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/kubejson"
	"github.com/berth-dev/berth/pkg/manifest"
)

// FuzzRead reads arbitrary input as a manifest: it never panics, every error is a
// *DocumentError, and the objects read, written back as one multi-document YAML manifest,
// read back equal.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		app, "", "---\n", "--- x\n", "{}", "{} {}", "[]", "- a\n", "apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Pod}]\n",
		`{"apiVersion":"v1","kind":"PodList","items":[{"metadata":{"name":"a"}}]}{"apiVersion":"v1","kind":"Namespace"}`,
		"---\n{apiVersion: v1, kind: Namespace, metadata: {name: a,},}\n---\nkind: Pod\n",
		"apiVersion: v1\nkind: Secret\ndata: {a: AAEC}\nstringData: {b: c}\n",
	} {
		f.Add([]byte(s))
	}
	files, _ := filepath.Glob("/work/shared/k8s-examples/*/*.yaml")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		items, err := manifest.ReadItems(bytes.NewReader(data), "fuzz.yaml")
		if err != nil {
			var de *manifest.DocumentError
			if !errors.As(err, &de) {
				t.Fatalf("error %T is not a *DocumentError: %v", err, err)
			}
			if !strings.HasPrefix(err.Error(), "fuzz.yaml: ") {
				t.Fatalf("error does not name the source: %v", err)
			}
		}
		var out bytes.Buffer
		for _, it := range items {
			y, err := kubejson.MarshalYAML(it.Object)
			if err != nil {
				t.Fatalf("MarshalYAML of %s: %v", it.String(), err)
			}
			out.WriteString("---\n")
			out.Write(y)
		}
		again, err := manifest.ReadItems(&out, "again.yaml")
		if err != nil {
			t.Fatalf("reading our own output: %v\n%s", err, out.Bytes())
		}
		if len(again) != len(items) {
			t.Fatalf("read %d objects back, want %d", len(again), len(items))
		}
		for i := range items {
			if again[i].Resource != items[i].Resource || !proto.Equal(again[i].Object, items[i].Object) {
				t.Fatalf("object %d differs:\n%v\n%v", i, items[i].Object, again[i].Object)
			}
		}
	})
}
