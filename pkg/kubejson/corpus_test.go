package kubejson_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	k8sappsv1 "k8s.io/api/apps/v1"
	k8scoordinationv1 "k8s.io/api/coordination/v1"
	k8scorev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/berth-dev/berth/pkg/kubejson"
	"github.com/berth-dev/berth/pkg/scheme"
)

// corpusDir holds example manifests from the Kubernetes documentation.
const corpusDir = "/work/shared/k8s-examples"

// k8sTypes are the k8s.io/api types of the kinds Berth serves, to check our JSON against.
var k8sTypes = map[string]func() any{
	"Namespace":             func() any { return &k8scorev1.Namespace{} },
	"Node":                  func() any { return &k8scorev1.Node{} },
	"ConfigMap":             func() any { return &k8scorev1.ConfigMap{} },
	"Secret":                func() any { return &k8scorev1.Secret{} },
	"Service":               func() any { return &k8scorev1.Service{} },
	"Endpoints":             func() any { return &k8scorev1.Endpoints{} },
	"Event":                 func() any { return &k8scorev1.Event{} },
	"Lease":                 func() any { return &k8scoordinationv1.Lease{} },
	"Pod":                   func() any { return &k8scorev1.Pod{} },
	"ReplicationController": func() any { return &k8scorev1.ReplicationController{} },
	"ReplicaSet":            func() any { return &k8sappsv1.ReplicaSet{} },
	"Deployment":            func() any { return &k8sappsv1.Deployment{} },
}

// unsupportedFields lists the corpus documents of served kinds that use a field Berth's API does
// not have, with that field: decoding them must fail naming it. When the API grows the field,
// the test fails until the entry is removed.
var unsupportedFields = map[string]string{}

// corpusDoc is one non-empty document of a corpus file.
type corpusDoc struct {
	name string // "pods/pod-nginx.yaml#1"
	data []byte
}

// corpus reads every document of every manifest under corpusDir, or skips the test when the
// corpus is absent.
func corpus(t testing.TB) []corpusDoc {
	t.Helper()
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("Kubernetes example corpus not available: %v", err)
	}
	docs, err := readCorpus()
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// readCorpus reads the documents of the corpus; none when it is absent.
func readCorpus() ([]corpusDoc, error) {
	if _, err := os.Stat(corpusDir); err != nil {
		return nil, nil
	}
	var docs []corpusDoc
	err := filepath.WalkDir(corpusDir, func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() || (!strings.HasSuffix(p, ".yaml") && !strings.HasSuffix(p, ".json")) {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(corpusDir, p)
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for n := 1; ; {
			doc, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			if js, err := yaml.YAMLToJSON(doc); err == nil && string(js) == "null" {
				continue
			}
			docs = append(docs, corpusDoc{name: fmt.Sprintf("%s#%d", rel, n), data: doc})
			n++
		}
		return nil
	})
	return docs, err
}

// decodeK8s decodes JSON into the k8s.io/api type of kind strictly, as the apiserver does.
func decodeK8s(t *testing.T, kind string, js []byte) any {
	t.Helper()
	obj := k8sTypes[kind]()
	strict, err := kjson.UnmarshalStrict(js, obj)
	if err != nil {
		t.Fatalf("decoding into %T: %v\n%s", obj, err, js)
	}
	if len(strict) > 0 {
		t.Fatalf("decoding into %T: %v\n%s", obj, errors.Join(strict...), js)
	}
	return obj
}

// TestCorpusRoundTrip checks every example manifest of a served kind: it decodes, and what we
// write back decodes strictly into the Kubernetes type and equals the original decoded the same
// way; our YAML decodes back to the same message. Other kinds fail naming what Berth serves.
func TestCorpusRoundTrip(t *testing.T) {
	served := 0
	for _, doc := range corpus(t) {
		t.Run(doc.name, func(t *testing.T) {
			apiVersion, kind, err := kubejson.TypeMeta(doc.data)
			if err != nil {
				t.Fatalf("TypeMeta: %v", err)
			}
			obj, res, err := kubejson.UnmarshalObject(doc.data)
			if _, ferr := scheme.ForKind(apiVersion, kind); ferr != nil {
				if err == nil {
					t.Fatalf("%s %s decoded, want an error", apiVersion, kind)
				}
				if !strings.Contains(err.Error(), kind) || !strings.Contains(err.Error(), "Berth serves") && !strings.Contains(err.Error(), "is served as") {
					t.Fatalf("error %q does not say which kinds Berth serves", err)
				}
				return
			}
			if field, ok := unsupportedFields[doc.name]; ok {
				if err == nil {
					t.Fatalf("decoded, want an error naming %s (remove it from unsupportedFields if the API has it now)", field)
				}
				if !strings.Contains(err.Error(), `"`+field+`"`) {
					t.Fatalf("error %q does not name %s", err, field)
				}
				return
			}
			if err != nil {
				t.Fatalf("UnmarshalObject: %v", err)
			}
			served++
			if res.Kind != kind {
				t.Fatalf("resource %s, want %s", res.Kind, kind)
			}
			out, err := kubejson.Marshal(obj)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			origJSON, err := yaml.YAMLToJSON(doc.data)
			if err != nil {
				t.Fatal(err)
			}
			want := decodeK8s(t, kind, origJSON)
			got := decodeK8s(t, kind, out)
			if !equality.Semantic.DeepEqual(want, got) {
				t.Fatalf("round trip differs\noriginal: %s\nours:     %s", origJSON, out)
			}

			y, err := kubejson.MarshalYAML(obj)
			if err != nil {
				t.Fatalf("MarshalYAML: %v", err)
			}
			again := res.New()
			if err := kubejson.Unmarshal(y, again); err != nil {
				t.Fatalf("Unmarshal of our YAML: %v\n%s", err, y)
			}
			if !proto.Equal(obj, again) {
				t.Fatalf("YAML round trip differs:\n%v\n%v", obj, again)
			}
		})
	}
	if served == 0 && !t.Skipped() {
		t.Fatal("no corpus document of a served kind decoded")
	}
}
