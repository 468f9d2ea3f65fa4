package validation

import (
	"encoding/json"

	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// MaxDataSize is the most data a ConfigMap or Secret may hold (1 MiB).
const MaxDataSize = 1 << 20

// ConfigMap validates a ConfigMap being created: keys (IsConfigMapKey), no key in both data and
// binaryData, and at most 1 MiB of data.
func ConfigMap(cm *corev1.ConfigMap) field.ErrorList {
	errs := ObjectMeta(cm.GetMetadata(), true, NameIsDNSSubdomain, metadataPath)
	return append(errs, configMapData(cm)...)
}

// ConfigMapUpdate validates a ConfigMap update; an immutable ConfigMap's data may not change
// and it may not become mutable again.
func ConfigMapUpdate(newCM, oldCM *corev1.ConfigMap) field.ErrorList {
	errs := ObjectMetaUpdate(newCM.GetMetadata(), oldCM.GetMetadata(), metadataPath)
	if oldCM.GetImmutable() {
		if !newCM.GetImmutable() {
			errs = append(errs, field.Forbidden(field.NewPath("immutable"), immutableWhenSetMsg))
		}
		if !mapsEqual(newCM.GetData(), oldCM.GetData()) {
			errs = append(errs, field.Forbidden(field.NewPath("data"), immutableWhenSetMsg))
		}
		if !bytesMapsEqual(newCM.GetBinaryData(), oldCM.GetBinaryData()) {
			errs = append(errs, field.Forbidden(field.NewPath("binaryData"), immutableWhenSetMsg))
		}
	}
	return append(errs, configMapData(newCM)...)
}

func configMapData(cm *corev1.ConfigMap) field.ErrorList {
	var errs field.ErrorList
	size := 0
	dataPath, binPath := field.NewPath("data"), field.NewPath("binaryData")
	for _, k := range sortedKeys(cm.GetData()) {
		errs = append(errs, msgs(validation.IsConfigMapKey(k), dataPath.Key(k), k)...)
		if _, dup := cm.GetBinaryData()[k]; dup {
			errs = append(errs, field.Invalid(dataPath.Key(k), k, "duplicate of key present in binaryData"))
		}
		size += len(cm.Data[k])
	}
	for _, k := range sortedKeys(cm.GetBinaryData()) {
		errs = append(errs, msgs(validation.IsConfigMapKey(k), binPath.Key(k), k)...)
		size += len(cm.BinaryData[k])
	}
	if size > MaxDataSize {
		// Kubernetes reports this at the empty path ("[]"); data and binaryData together is
		// what is too long.
		errs = append(errs, field.TooLong(dataPath, "", MaxDataSize))
	}
	return errs
}

// Secret validates a Secret being created: keys (IsConfigMapKey), at most 1 MiB of data, and
// the keys its type requires (service-account-token, dockercfg, dockerconfigjson, basic-auth,
// ssh-auth, tls).
func Secret(s *corev1.Secret) field.ErrorList {
	errs := ObjectMeta(s.GetMetadata(), true, NameIsDNSSubdomain, metadataPath)
	return append(errs, secretData(s)...)
}

// SecretUpdate validates a Secret update: its type may not change, and an immutable Secret's
// data may not change and it may not become mutable again.
func SecretUpdate(newS, oldS *corev1.Secret) field.ErrorList {
	errs := ObjectMetaUpdate(newS.GetMetadata(), oldS.GetMetadata(), metadataPath)
	if newS.GetType() != oldS.GetType() {
		errs = append(errs, field.Invalid(field.NewPath("type"), newS.GetType(), fieldImmutableMsg))
	}
	if oldS.GetImmutable() {
		if !newS.GetImmutable() {
			errs = append(errs, field.Forbidden(field.NewPath("immutable"), immutableWhenSetMsg))
		}
		if !bytesMapsEqual(newS.GetData(), oldS.GetData()) || len(newS.GetStringData()) > 0 {
			errs = append(errs, field.Forbidden(field.NewPath("data"), immutableWhenSetMsg))
		}
	}
	return append(errs, secretData(newS)...)
}

func secretData(s *corev1.Secret) field.ErrorList {
	var errs field.ErrorList
	dataPath := field.NewPath("data")
	size := 0
	for _, k := range sortedKeys(s.GetData()) {
		errs = append(errs, msgs(validation.IsConfigMapKey(k), dataPath.Key(k), k)...)
		if _, replaced := s.GetStringData()[k]; !replaced {
			size += len(s.Data[k])
		}
	}
	// stringData is merged into data by defaulting, its values replacing data's; validate what
	// is left of it the same way.
	for _, k := range sortedKeys(s.GetStringData()) {
		errs = append(errs, msgs(validation.IsConfigMapKey(k), field.NewPath("stringData").Key(k), k)...)
		size += len(s.StringData[k])
	}
	if size > MaxDataSize {
		errs = append(errs, field.TooLong(dataPath, "", MaxDataSize))
	}
	has := func(k string) bool {
		_, inData := s.GetData()[k]
		_, inString := s.GetStringData()[k]
		return inData || inString
	}
	value := func(k string) []byte {
		if v, ok := s.GetStringData()[k]; ok {
			return []byte(v)
		}
		return s.GetData()[k]
	}
	switch s.GetType() {
	case "kubernetes.io/service-account-token":
		if s.GetMetadata().GetAnnotations()["kubernetes.io/service-account.name"] == "" {
			errs = append(errs, field.Required(field.NewPath("metadata", "annotations").Key("kubernetes.io/service-account.name"), ""))
		}
	case "kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson":
		key := ".dockercfg"
		if s.GetType() == "kubernetes.io/dockerconfigjson" {
			key = ".dockerconfigjson"
		}
		if !has(key) {
			errs = append(errs, field.Required(dataPath.Key(key), ""))
			break
		}
		if err := json.Unmarshal(value(key), &map[string]any{}); err != nil {
			errs = append(errs, field.Invalid(dataPath.Key(key), "<secret contents redacted>", err.Error()))
		}
	case "kubernetes.io/basic-auth":
		if !has("username") && !has("password") {
			errs = append(errs, field.Required(dataPath.Key("username"), ""), field.Required(dataPath.Key("password"), ""))
		}
	case "kubernetes.io/ssh-auth":
		if len(value("ssh-privatekey")) == 0 {
			errs = append(errs, field.Required(dataPath.Key("ssh-privatekey"), ""))
		}
	case "kubernetes.io/tls":
		if !has("tls.crt") {
			errs = append(errs, field.Required(dataPath.Key("tls.crt"), ""))
		}
		if !has("tls.key") {
			errs = append(errs, field.Required(dataPath.Key("tls.key"), ""))
		}
	}
	return errs
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func bytesMapsEqual(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || string(w) != string(v) {
			return false
		}
	}
	return true
}

// equalMessages compares two optional messages.
func equalMessages(a, b proto.Message) bool { return proto.Equal(a, b) }
