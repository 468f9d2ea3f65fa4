package gateway

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	kappsv1 "k8s.io/api/apps/v1"
	kautoscalingv1 "k8s.io/api/autoscaling/v1"
	kcoordinationv1 "k8s.io/api/coordination/v1"
	kcorev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/berth-dev/berth/pkg/scheme"
)

// kubeType is, for one resource Berth serves, a manifest to create and the k8s.io/api types
// its objects and lists must decode into.
type kubeType struct {
	res      *scheme.Resource
	manifest string
	obj      func() runtime.Object
	list     func() runtime.Object
}

const podTemplate = `{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"nginx:1.27","ports":[{"containerPort":80,"name":"http"}],"resources":{"requests":{"cpu":"100m","memory":"64Mi"}}}]}}`

var kubeTypes = []kubeType{
	{scheme.Namespaces, `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"rest-ns","labels":{"team":"a"}}}`,
		func() runtime.Object { return &kcorev1.Namespace{} }, func() runtime.Object { return &kcorev1.NamespaceList{} }},
	{scheme.Nodes, `{"apiVersion":"v1","kind":"Node","metadata":{"name":"rest-node"},"spec":{"podCIDR":"10.244.1.0/24","taints":[{"key":"k","value":"v","effect":"NoSchedule"}]},"status":{"capacity":{"cpu":"4","memory":"8Gi","pods":"110"}}}`,
		func() runtime.Object { return &kcorev1.Node{} }, func() runtime.Object { return &kcorev1.NodeList{} }},
	{scheme.ConfigMaps, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"rest-cm"},"data":{"a":"b"},"binaryData":{"bin":"AAE="}}`,
		func() runtime.Object { return &kcorev1.ConfigMap{} }, func() runtime.Object { return &kcorev1.ConfigMapList{} }},
	{scheme.Secrets, `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"rest-secret"},"type":"Opaque","data":{"k":"dmFsdWU="},"stringData":{"s":"plain"}}`,
		func() runtime.Object { return &kcorev1.Secret{} }, func() runtime.Object { return &kcorev1.SecretList{} }},
	{scheme.Services, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"rest-svc"},"spec":{"selector":{"app":"x"},"ports":[{"name":"http","port":80,"targetPort":"http"},{"name":"metrics","port":9090,"targetPort":9090}]}}`,
		func() runtime.Object { return &kcorev1.Service{} }, func() runtime.Object { return &kcorev1.ServiceList{} }},
	{scheme.Endpoints, `{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"rest-ep"},"subsets":[{"addresses":[{"ip":"10.244.1.5","nodeName":"n1"}],"ports":[{"name":"http","port":8080,"protocol":"TCP"}]}]}`,
		func() runtime.Object { return &kcorev1.Endpoints{} }, func() runtime.Object { return &kcorev1.EndpointsList{} }},
	{scheme.Events, `{"apiVersion":"v1","kind":"Event","metadata":{"name":"rest-ev.1"},"involvedObject":{"kind":"Pod","namespace":"default","name":"web"},"reason":"Scheduled","message":"assigned","type":"Normal","count":1,"source":{"component":"scheduler"},"firstTimestamp":"2025-01-02T03:04:05Z","eventTime":"2025-01-02T03:04:05.123456Z","reportingComponent":"scheduler","reportingInstance":"s-1","action":"Binding"}`,
		func() runtime.Object { return &kcorev1.Event{} }, func() runtime.Object { return &kcorev1.EventList{} }},
	{scheme.Leases, `{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"rest-lease"},"spec":{"holderIdentity":"a","leaseDurationSeconds":15,"leaseTransitions":0,"renewTime":"2025-01-02T03:04:05.000000Z"}}`,
		func() runtime.Object { return &kcoordinationv1.Lease{} }, func() runtime.Object { return &kcoordinationv1.LeaseList{} }},
	{scheme.Pods, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"rest-pod","labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"nginx:1.27","ports":[{"containerPort":80}],"env":[{"name":"A","value":"1"}],"readinessProbe":{"httpGet":{"path":"/","port":80}}}]}}`,
		func() runtime.Object { return &kcorev1.Pod{} }, func() runtime.Object { return &kcorev1.PodList{} }},
	{scheme.ReplicationControllers, `{"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"rest-rc"},"spec":{"replicas":1,"selector":{"app":"x"},"template":` + podTemplate + `}}`,
		func() runtime.Object { return &kcorev1.ReplicationController{} }, func() runtime.Object { return &kcorev1.ReplicationControllerList{} }},
	{scheme.ReplicaSets, `{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"rest-rs"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"x"}},"template":` + podTemplate + `}}`,
		func() runtime.Object { return &kappsv1.ReplicaSet{} }, func() runtime.Object { return &kappsv1.ReplicaSetList{} }},
	{scheme.Deployments, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"rest-deploy"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"x"}},"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":1}},"template":` + podTemplate + `}}`,
		func() runtime.Object { return &kappsv1.Deployment{} }, func() runtime.Object { return &kappsv1.DeploymentList{} }},
}

func TestKubeTypesCoverScheme(t *testing.T) {
	seen := map[*scheme.Resource]bool{}
	for _, kt := range kubeTypes {
		seen[kt.res] = true
	}
	for _, r := range scheme.All {
		if !seen[r] {
			t.Errorf("no REST test for %s", r.Kind)
		}
	}
}

// collectionPath is where objects of kt live: the default namespace for namespaced resources.
func collectionPath(r *scheme.Resource) string {
	if r.Namespaced {
		return prefix(r) + "/namespaces/default/" + r.Plural
	}
	return prefix(r) + "/" + r.Plural
}

// TestEveryResource creates, reads, lists, watches, updates and deletes one object of every
// kind through REST, and decodes everything the gateway answers, strictly, into the
// k8s.io/api type Kubernetes clients use.
func TestEveryResource(t *testing.T) {
	e := start(t)
	for _, kt := range kubeTypes {
		t.Run(kt.res.Kind, func(t *testing.T) {
			coll := collectionPath(kt.res)
			var created runtime.Object = kt.obj()
			// A watch from now on sees what follows.
			var m struct {
				Metadata struct{ Name string } `json:"metadata"`
			}
			if err := json.Unmarshal([]byte(kt.manifest), &m); err != nil {
				t.Fatal(err)
			}
			name := m.Metadata.Name
			w := e.watch(t, coll+"?watch=true&fieldSelector="+url.QueryEscape("metadata.name="+name))

			r := e.post(t, coll, kt.manifest)
			if r.code != http.StatusCreated {
				t.Fatalf("create: %d %s", r.code, r.body)
			}
			strict(t, r.body, created)
			acc, err := meta.Accessor(created)
			if err != nil {
				t.Fatal(err)
			}
			if acc.GetName() != name || acc.GetResourceVersion() == "" || acc.GetUID() == "" {
				t.Fatalf("created %s: name %q rv %q uid %q", kt.res.Kind, acc.GetName(), acc.GetResourceVersion(), acc.GetUID())
			}
			checkTypeMeta(t, created, kt.res.APIVersion(), kt.res.Kind)

			objPath := coll + "/" + name
			r = e.get(t, objPath)
			if r.code != http.StatusOK {
				t.Fatalf("get: %d %s", r.code, r.body)
			}
			got := kt.obj()
			strict(t, r.body, got)
			checkTypeMeta(t, got, kt.res.APIVersion(), kt.res.Kind)

			lists := []string{coll}
			if kt.res.Namespaced {
				lists = append(lists, prefix(kt.res)+"/"+kt.res.Plural)
			}
			for _, lp := range lists {
				r = e.get(t, lp)
				if r.code != http.StatusOK {
					t.Fatalf("list %s: %d %s", lp, r.code, r.body)
				}
				list := kt.list()
				strict(t, r.body, list)
				checkTypeMeta(t, list, kt.res.APIVersion(), kt.res.ListKind)
				if la, err := meta.ListAccessor(list); err != nil || la.GetResourceVersion() == "" {
					t.Errorf("list %s: resourceVersion missing (%v)", lp, err)
				}
				items, err := meta.ExtractList(list)
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, it := range items {
					if a, _ := meta.Accessor(it); a.GetName() == name {
						found = true
					}
				}
				if !found {
					t.Errorf("list %s: %s missing", lp, name)
				}
			}

			ev := w.nextEvent(t)
			if ev.Type != "ADDED" {
				t.Fatalf("first event %s", ev.Type)
			}
			strict(t, ev.Object, kt.obj())

			// Update: a label, with the resourceVersion as a precondition.
			updated := setLabel(t, r0(e.get(t, objPath)), "updated", "yes")
			r = e.put(t, objPath, updated)
			if r.code != http.StatusOK {
				t.Fatalf("update: %d %s", r.code, r.body)
			}
			after := kt.obj()
			strict(t, r.body, after)
			if a, _ := meta.Accessor(after); a.GetLabels()["updated"] != "yes" {
				t.Errorf("update lost the label: %s", r.body)
			}
			if ev := w.nextEvent(t); ev.Type != "MODIFIED" {
				t.Errorf("event after update: %s", ev.Type)
			} else {
				strict(t, ev.Object, kt.obj())
			}

			if kt.res.HasStatus {
				r = e.get(t, objPath+"/status")
				if r.code != http.StatusOK {
					t.Fatalf("get status: %d %s", r.code, r.body)
				}
				strict(t, r.body, kt.obj())
				r = e.put(t, objPath+"/status", string(r.body))
				if r.code != http.StatusOK {
					t.Fatalf("update status: %d %s", r.code, r.body)
				}
				strict(t, r.body, kt.obj())
			}
			if kt.res.HasScale {
				r = e.get(t, objPath+"/scale")
				if r.code != http.StatusOK {
					t.Fatalf("get scale: %d %s", r.code, r.body)
				}
				var sc kautoscalingv1.Scale
				strict(t, r.body, &sc)
				if sc.Kind != "Scale" || sc.APIVersion != "autoscaling/v1" || sc.Name != name {
					t.Errorf("scale: %s", r.body)
				}
				sc.Spec.Replicas = 3
				b, _ := json.Marshal(&sc)
				r = e.put(t, objPath+"/scale", string(b))
				if r.code != http.StatusOK {
					t.Fatalf("update scale: %d %s", r.code, r.body)
				}
				var sc2 kautoscalingv1.Scale
				strict(t, r.body, &sc2)
				if sc2.Spec.Replicas != 3 {
					t.Errorf("scale not updated: %s", r.body)
				}
			}

			r = e.do(t, http.MethodDelete, objPath, "", "")
			if r.code != http.StatusOK {
				t.Fatalf("delete: %d %s", r.code, r.body)
			}
			deleted := kt.obj()
			strict(t, r.body, deleted)
			if a, _ := meta.Accessor(deleted); a.GetDeletionTimestamp() != nil {
				// Deletion is pending (a Namespace until it is empty, a Pod for its grace
				// period): the object is still there, marked.
				if ev := w.nextEvent(t); ev.Type != "MODIFIED" {
					t.Errorf("event after a pending delete: %s", ev.Type)
				}
				return
			}
			for {
				ev := w.nextEvent(t)
				strict(t, ev.Object, kt.obj())
				if ev.Type == "DELETED" {
					break
				}
			}
			wantStatus(t, e.get(t, objPath), http.StatusNotFound, kmetav1.StatusReasonNotFound)
		})
	}
}

func r0(r response) []byte { return r.body }

// setLabel returns a JSON object with one more label.
func setLabel(t *testing.T, obj []byte, k, v string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(obj, &m); err != nil {
		t.Fatal(err)
	}
	md := m["metadata"].(map[string]any)
	labels, _ := md["labels"].(map[string]any)
	if labels == nil {
		labels = map[string]any{}
	}
	labels[k] = v
	md["labels"] = labels
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func checkTypeMeta(t *testing.T, obj runtime.Object, apiVersion, kind string) {
	t.Helper()
	gvk := obj.GetObjectKind().GroupVersionKind()
	if gvk.GroupVersion().String() != apiVersion || gvk.Kind != kind {
		t.Errorf("apiVersion/kind %s %s, want %s %s", gvk.GroupVersion(), gvk.Kind, apiVersion, kind)
	}
}
