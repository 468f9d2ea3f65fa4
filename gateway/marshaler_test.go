package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func TestMarshaler(t *testing.T) {
	m := marshaler{}
	pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "p", Generation: 3}, Status: &corev1.PodStatus{PodIp: "10.0.0.1"}}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"object", pod, `{"apiVersion":"v1","kind":"Pod","metadata":{"generation":3,"name":"p"},"status":{"podIP":"10.0.0.1"}}`},
		{"list", &corev1.PodList{Items: []*corev1.Pod{pod}}, `{"apiVersion":"v1","items":[{"metadata":{"generation":3,"name":"p"},"status":{"podIP":"10.0.0.1"}}],"kind":"PodList","metadata":{}}`},
		{"status", &kmetav1.Status{Status: "Success"}, `{"metadata":{},"status":"Success"}`},
	}
	for _, tt := range tests {
		b, err := m.Marshal(tt.v)
		if err != nil || string(b) != tt.want {
			t.Errorf("%s: %s, %v\nwant %s", tt.name, b, err, tt.want)
		}
	}
	if ct := m.ContentType(pod); ct != "application/json" {
		t.Errorf("ContentType %q", ct)
	}
}

func TestMarshalerDecoder(t *testing.T) {
	m := marshaler{}
	// A body the gateway decoded already is handed over as it is.
	pre := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "pre"}}
	var got corev1.Pod
	if err := m.NewDecoder(&decodedBody{msg: pre}).Decode(&got); err != nil || got.GetMetadata().GetName() != "pre" {
		t.Errorf("decoded body: %v %v", &got, err)
	}
	if err := m.NewDecoder(&decodedBody{msg: pre}).Decode(&appsv1.Deployment{}); err == nil {
		t.Error("a Pod handed over as a Deployment")
	}
	// Any other body is read strictly.
	if err := m.NewDecoder(strings.NewReader(`{"metadata":{"name":"x"}}`)).Decode(&got); err != nil || got.GetMetadata().GetName() != "x" {
		t.Errorf("plain body: %v %v", &got, err)
	}
	if err := m.NewDecoder(strings.NewReader(`{"metadata":{"nam":"x"}}`)).Decode(&got); err == nil {
		t.Error("unknown field accepted")
	}
	if err := m.NewDecoder(strings.NewReader("")).Decode(&got); err != io.EOF {
		t.Errorf("empty body: %v", err)
	}
}

func TestCreatedWriter(t *testing.T) {
	for _, tt := range []struct {
		write func(w http.ResponseWriter)
		want  int
	}{
		{func(w http.ResponseWriter) { _, _ = w.Write([]byte("{}")) }, http.StatusCreated},
		{func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) }, http.StatusCreated},
		{func(w http.ResponseWriter) { w.WriteHeader(http.StatusConflict) }, http.StatusConflict},
	} {
		rec := httptest.NewRecorder()
		tt.write(&createdWriter{ResponseWriter: rec})
		if rec.Code != tt.want {
			t.Errorf("code %d, want %d", rec.Code, tt.want)
		}
	}
}
