package gateway

import (
	"fmt"
	"net/http"
	"testing"

	kcorev1 "k8s.io/api/core/v1"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestBinding(t *testing.T) {
	e := start(t)
	e.createPod(t, "b")
	path := podsPath + "/b/binding"
	wantStatus(t, e.post(t, path, `{"apiVersion":"v1","kind":"Binding","metadata":{"name":"other"},"target":{"kind":"Node","name":"n1"}}`),
		http.StatusBadRequest, kmetav1.StatusReasonBadRequest)
	wantStatus(t, e.post(t, path, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"b"}}`), http.StatusBadRequest, kmetav1.StatusReasonBadRequest)

	r := e.post(t, path, `{"apiVersion":"v1","kind":"Binding","metadata":{"name":"b"},"target":{"apiVersion":"v1","kind":"Node","name":"n1"}}`)
	if r.code != http.StatusCreated {
		t.Fatalf("bind: %d %s", r.code, r.body)
	}
	// Kubernetes answers a binding with a Success Status.
	var st kmetav1.Status
	strict(t, r.body, &st)
	if st.Kind != "Status" || st.Status != kmetav1.StatusSuccess || st.Code != http.StatusCreated {
		t.Errorf("bind answered %s", r.body)
	}
	var p kcorev1.Pod
	strict(t, e.get(t, podsPath+"/b").body, &p)
	if p.Spec.NodeName != "n1" {
		t.Errorf("nodeName %q", p.Spec.NodeName)
	}
	// Bound already: the apiserver's Conflict.
	r = e.post(t, path, `{"metadata":{"name":"b"},"target":{"kind":"Node","name":"n2"}}`)
	if r.code != http.StatusConflict {
		t.Errorf("second bind: %d %s", r.code, r.body)
	}
}

func TestDeleteOptions(t *testing.T) {
	e := start(t)
	tests := []struct {
		name, query, body string
		code              int
	}{
		{"query", "?gracePeriodSeconds=0&propagationPolicy=Background", "", http.StatusOK},
		{"body", "", `{"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0,"propagationPolicy":"Foreground"}`, http.StatusOK},
		{"orphanDependents", "?orphanDependents=true&gracePeriodSeconds=0", "", http.StatusOK},
		{"stale precondition", "", `{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"resourceVersion":"1"}}`, http.StatusConflict},
		{"wrong uid", "?preconditions.uid=nope", "", http.StatusConflict},
		{"bad policy", "?propagationPolicy=Sometimes", "", http.StatusUnprocessableEntity},
		{"dry run", "", `{"dryRun":["All"],"gracePeriodSeconds":0}`, http.StatusOK},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("del-%d", i)
			e.createPod(t, name)
			r := e.do(t, http.MethodDelete, podsPath+"/"+name+tt.query, "application/json", tt.body)
			if r.code != tt.code {
				t.Fatalf("%d %s", r.code, r.body)
			}
			if r.code == http.StatusOK {
				var p kcorev1.Pod
				strict(t, r.body, &p)
				if p.Name != name {
					t.Errorf("answered %s", r.body)
				}
			}
		})
	}
}
