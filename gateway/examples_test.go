package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/berth-dev/berth/pkg/kubejson"
	"github.com/berth-dev/berth/pkg/scheme"
)

// examplesDir holds manifests from the Kubernetes documentation (see its SOURCE.md).
const examplesDir = "/work/shared/k8s-examples"

var docSeparator = regexp.MustCompile(`(?m)^---.*$`)

// TestKubernetesExamplesRoundTrip POSTs every example manifest of a kind Berth serves, as
// JSON, and checks that the object the gateway answers with decodes strictly into the
// k8s.io/api type and holds every field of the manifest with its value (the server adds
// defaults, metadata and status, and may write a quantity canonically: 1 becomes "1").
func TestKubernetesExamplesRoundTrip(t *testing.T) {
	if _, err := os.Stat(examplesDir); err != nil {
		t.Skipf("no examples at %s: %v", examplesDir, err)
	}
	e := start(t)
	types := map[*scheme.Resource]kubeType{}
	for _, kt := range kubeTypes {
		types[kt.res] = kt
	}
	var files []string
	err := filepath.WalkDir(examplesDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".yaml") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	created, refused := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(examplesDir, f)
		for i, doc := range docSeparator.Split(string(data), -1) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			name := fmt.Sprintf("%s#%d", rel, i)
			js, err := kubejson.ToJSON([]byte(doc))
			if err != nil || bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
				continue
			}
			apiVersion, kind, err := kubejson.TypeMeta(js)
			if err != nil {
				continue
			}
			res, err := scheme.ForKind(apiVersion, kind)
			if err != nil {
				continue
			}
			var manifest map[string]any
			if err := json.Unmarshal(js, &manifest); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			md, _ := manifest["metadata"].(map[string]any)
			ns, _ := md["namespace"].(string)
			if ns == "" {
				ns = "default"
			}
			path := prefix(res) + "/" + res.Plural
			if res.Namespaced {
				path = prefix(res) + "/namespaces/" + ns + "/" + res.Plural
			}
			if res.Namespaced && ns != "default" {
				e.post(t, "/api/v1/namespaces", `{"metadata":{"name":"`+ns+`"}}`)
			}
			r := e.post(t, path+"?fieldValidation=Strict", string(js))
			switch r.code {
			case http.StatusCreated:
			case http.StatusUnprocessableEntity:
				// A field Berth refuses on purpose (see pkg/validation's examples test).
				refused++
				t.Logf("%s: refused: %s", name, r.body)
				continue
			default:
				t.Errorf("%s: POST answered %d %s", name, r.code, r.body)
				continue
			}
			created++
			strict(t, r.body, types[res].obj())
			var got map[string]any
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatal(err)
			}
			if diff := missing(manifest, got, ""); diff != "" {
				t.Errorf("%s: the created object lost what the manifest says: %s", name, diff)
			}
			objName, _ := got["metadata"].(map[string]any)["name"].(string)
			if r := e.do(t, http.MethodDelete, path+"/"+objName+"?gracePeriodSeconds=0", "", ""); r.code != http.StatusOK {
				t.Errorf("%s: delete: %d %s", name, r.code, r.body)
			}
		}
	}
	t.Logf("%d examples created, %d refused", created, refused)
	if created < 20 {
		t.Errorf("only %d examples created", created)
	}
}

// missing describes the first value of want that got does not have ("" when got holds all
// of want).
func missing(want, got any, path string) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: %v, want an object", path, got)
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if w[k] == nil {
				continue
			}
			gv, ok := g[k]
			if !ok {
				if isEmpty(w[k]) {
					continue
				}
				return fmt.Sprintf("%s.%s is gone", path, k)
			}
			if d := missing(w[k], gv, path+"."+k); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: %v, want %v", path, got, want)
		}
		for i := range w {
			if d := missing(w[i], g[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		return ""
	default:
		if reflect.DeepEqual(want, got) || sameQuantity(want, got) {
			return ""
		}
		return fmt.Sprintf("%s: %v, want %v", path, got, want)
	}
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	case string:
		return x == ""
	case bool:
		return !x
	}
	return false
}

// sameQuantity tells whether two scalars are the same resource quantity (1 and "1", "0.5"
// and "500m").
func sameQuantity(a, b any) bool {
	qa, ok1 := quantity(a)
	qb, ok2 := quantity(b)
	return ok1 && ok2 && qa.Cmp(qb) == 0
}

func quantity(v any) (resource.Quantity, bool) {
	switch x := v.(type) {
	case string:
		q, err := resource.ParseQuantity(x)
		return q, err == nil
	case float64:
		q, err := resource.ParseQuantity(fmt.Sprint(x))
		return q, err == nil
	}
	return resource.Quantity{}, false
}
