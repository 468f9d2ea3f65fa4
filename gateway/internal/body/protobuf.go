package body

import (
	"encoding/json"
	"fmt"
	"mime"

	kappsv1 "k8s.io/api/apps/v1"
	kautoscalingv1 "k8s.io/api/autoscaling/v1"
	kcoordinationv1 "k8s.io/api/coordination/v1"
	kcorev1 "k8s.io/api/core/v1"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"

	"google.golang.org/protobuf/proto"
)

// ContentTypeProtobuf is Kubernetes' protobuf media type, which k8s.io/client-go's typed
// clients send by default.
const ContentTypeProtobuf = "application/vnd.kubernetes.protobuf"

// IsProtobuf tells whether a Content-Type is Kubernetes' protobuf.
func IsProtobuf(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == ContentTypeProtobuf
}

// kubeProtobuf decodes Kubernetes' protobuf envelope (the "k8s\x00" magic, then a
// runtime.Unknown naming the apiVersion and kind) into the k8s.io/api types of the groups
// Berth serves.
var kubeProtobuf = func() *protobuf.Serializer {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		kcorev1.AddToScheme, kappsv1.AddToScheme, kcoordinationv1.AddToScheme, kautoscalingv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	kmetav1.AddToGroupVersion(s, schema.GroupVersion{Group: "meta.k8s.io", Version: "v1"})
	return protobuf.NewSerializer(s, s)
}()

// protobufToJSON decodes a Kubernetes protobuf body into its k8s.io/api object and writes
// that as JSON, with its apiVersion and kind.
func protobufToJSON(data []byte) (js []byte, err error) {
	defer func() {
		// Generated unmarshalling code is not fuzzed by its authors for our inputs; a body
		// that upsets it is the client's mistake, never a crash.
		if r := recover(); r != nil {
			js, err = nil, fmt.Errorf("invalid protobuf: %v", r)
		}
	}()
	obj, gvk, err := kubeProtobuf.Decode(data, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("invalid protobuf: %w", err)
	}
	obj.GetObjectKind().SetGroupVersionKind(*gvk)
	return json.Marshal(obj)
}

// DecodeProtobuf decodes a Kubernetes protobuf body into m, as Decode decodes JSON. The
// fields of the Kubernetes type that m does not have are unknown fields under v, except those
// the client left empty (protobuf cannot tell them from unset).
func DecodeProtobuf(data []byte, m proto.Message, want Kind, v Validation) ([]string, error) {
	js, err := protobufToJSON(data)
	if err != nil {
		return nil, cannotHandle(want, want, err)
	}
	return decode(js, m, want, v, true)
}
