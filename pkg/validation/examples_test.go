package validation_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/defaults"
	"github.com/berth-dev/berth/pkg/kubejson"
	"github.com/berth-dev/berth/pkg/scheme"
	"github.com/berth-dev/berth/pkg/validation"
)

// examplesDir holds Kubernetes' documentation examples (see its SOURCE.md).
const examplesDir = "/work/shared/k8s-examples"

// refusedExamples are the examples, as "file#document", that use a field Berth refuses on
// purpose (unsupported.go), with the field paths expected in the errors. Every other example of
// a kind Berth serves must default and validate cleanly.
var refusedExamples = map[string][]string{
	"pods/pod-with-pod-affinity.yaml#0": {"spec.affinity.podAffinity", "spec.affinity.podAntiAffinity"},
	"pods/probe/grpc-liveness.yaml#1":   {"spec.containers[0].livenessProbe.grpc"},
	"pods/storage/pv-duplicate.yaml#0":  {"spec.volumes[0].persistentVolumeClaim"},
	"pods/storage/pv-pod-backup.yaml#0": {"spec.volumes[0].persistentVolumeClaim"},
	"pods/storage/pv-pod.yaml#0":        {"spec.volumes[0].persistentVolumeClaim"},
	// A sidecar: an init container with restartPolicy Always (Kubernetes 1.29+).
	"pods/multi-container/localhost.yaml#0": {"spec.initContainers[0].restartPolicy"},
}

// undecodableExamples are the examples that use a field Berth's API does not have, with the
// decoder's error: they never reach validation.
var undecodableExamples = map[string]string{}

var docSeparator = regexp.MustCompile(`(?m)^---.*$`)

// TestKubernetesExamples decodes every example manifest with the strict decoder, and checks
// that each object of a kind Berth serves defaults and validates cleanly, or is refused only for
// the fields listed in refusedExamples.
func TestKubernetesExamples(t *testing.T) {
	if _, err := os.Stat(examplesDir); err != nil {
		t.Skipf("no examples at %s: %v", examplesDir, err)
	}
	served := 0
	for _, ex := range readExamples(t) {
		name, doc := ex.name, ex.doc
		apiVersion, kind, err := kubejson.TypeMeta([]byte(doc))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if _, err := scheme.ForKind(apiVersion, kind); err != nil {
			t.Logf("%s: %s %s is not a kind Berth serves", name, apiVersion, kind)
			continue
		}
		obj, _, err := kubejson.UnmarshalObject([]byte(doc))
		if want, ok := undecodableExamples[name]; ok {
			if err == nil || err.Error() != want {
				t.Errorf("%s: decode error %v, want %s", name, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: decode: %v", name, err)
			continue
		}
		served++
		if scheme.ForObject(obj).Namespaced && obj.GetMetadata().GetNamespace() == "" {
			obj.GetMetadata().Namespace = "default"
		}
		defaults.Object(obj)
		again := proto.Clone(obj).(scheme.Object)
		defaults.Object(again)
		if !proto.Equal(obj, again) {
			t.Errorf("%s: defaulting twice differs from defaulting once", name)
		}
		errs := validation.Object(obj)
		if uerrs := validation.ObjectUpdate(again, obj); len(uerrs) != len(errs) {
			t.Errorf("%s: updating the object with itself: %v, want the create errors %v", name, uerrs, errs)
		}
		want, refused := refusedExamples[name]
		if !refused {
			for _, e := range errs {
				t.Errorf("%s: %v", name, e)
			}
			continue
		}
		var got []string
		for _, e := range errs {
			got = append(got, e.Field)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: refused for %q, want %q (%v)", name, got, want, errs)
		} else {
			t.Logf("%s: refused as expected: %v", name, errs.ToAggregate())
		}
	}
	t.Logf("%d objects of kinds Berth serves", served)
}

// example is one YAML document of an example manifest.
type example struct {
	name string // "dir/file.yaml#index"
	doc  string
}

// readExamples splits every example manifest into its documents.
func readExamples(tb testing.TB) []example {
	var files []string
	err := filepath.WalkDir(examplesDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(files)
	var out []example
	for _, f := range files {
		rel, _ := filepath.Rel(examplesDir, f)
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		for i, doc := range docSeparator.Split(string(data), -1) {
			if len(bytes.TrimSpace([]byte(doc))) > 0 {
				out = append(out, example{rel + "#" + strconv.Itoa(i), doc})
			}
		}
	}
	return out
}

// exampleDocs returns the example documents of one kind, as fuzz seeds; none when the examples
// are not on this machine.
func exampleDocs(tb testing.TB, r *scheme.Resource) [][]byte {
	if _, err := os.Stat(examplesDir); err != nil {
		return nil
	}
	var docs [][]byte
	for _, ex := range readExamples(tb) {
		if apiVersion, kind, err := kubejson.TypeMeta([]byte(ex.doc)); err == nil && apiVersion == r.APIVersion() && kind == r.Kind {
			docs = append(docs, []byte(ex.doc))
		}
	}
	return docs
}
