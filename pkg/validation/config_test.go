package validation_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func validConfigMap() *corev1.ConfigMap {
	return defaulted(&corev1.ConfigMap{
		Metadata:   &metav1.ObjectMeta{Name: "cfg", Namespace: "default"},
		Data:       map[string]string{"app.properties": "a=1", "MODE": "prod"},
		BinaryData: map[string][]byte{"logo.png": {0x89, 'P', 'N', 'G'}},
	})
}

func TestConfigMap(t *testing.T) {
	runCases(t, validConfigMap, []tcase[*corev1.ConfigMap]{
		{"name", func(cm *corev1.ConfigMap) { cm.Metadata.Name = "Cfg" }, []fe{{"metadata.name", invalid}}},
		{"key", func(cm *corev1.ConfigMap) { cm.Data["conf/app"] = "" }, []fe{{"data[conf/app]", invalid}}},
		{"binary key", func(cm *corev1.ConfigMap) { cm.BinaryData[".."] = nil }, []fe{{"binaryData[..]", invalid}}},
		{"key in both", func(cm *corev1.ConfigMap) { cm.Data["logo.png"] = "" }, []fe{{"data[logo.png]", invalid}}},
		{"over 1 MiB", func(cm *corev1.ConfigMap) {
			cm.Data["a"], cm.Data["b"] = bigString(1<<19), bigString(1<<19)
		}, []fe{{"data", tooLong}}},
		{"exactly 1 MiB", func(cm *corev1.ConfigMap) {
			cm.Data, cm.BinaryData = map[string]string{"a": bigString(1 << 20)}, nil
		}, nil},
	})
	immutable := func() *corev1.ConfigMap {
		cm := validConfigMap()
		cm.Immutable = proto.Bool(true)
		return cm
	}
	runUpdateCases(t, validConfigMap, []updateCase[*corev1.ConfigMap]{
		{"data of a mutable ConfigMap", func(cm *corev1.ConfigMap) { cm.Data["MODE"] = "dev" }, nil},
		{"make immutable", func(cm *corev1.ConfigMap) { cm.Immutable = proto.Bool(true) }, nil},
	})
	runUpdateCases(t, immutable, []updateCase[*corev1.ConfigMap]{
		{"labels", func(cm *corev1.ConfigMap) { cm.Metadata.Labels = map[string]string{"a": "b"} }, nil},
		{"data", func(cm *corev1.ConfigMap) { cm.Data["MODE"] = "dev" }, []fe{{"data", forbidden}}},
		{"binaryData", func(cm *corev1.ConfigMap) { cm.BinaryData = nil }, []fe{{"binaryData", forbidden}}},
		{"make mutable", func(cm *corev1.ConfigMap) { cm.Immutable = nil }, []fe{{"immutable", forbidden}}},
	})
}

func validSecret() *corev1.Secret {
	return defaulted(&corev1.Secret{
		Metadata:   &metav1.ObjectMeta{Name: "creds", Namespace: "default"},
		Data:       map[string][]byte{"password": []byte("s3cret")},
		StringData: map[string]string{"username": "admin"},
	})
}

func TestSecret(t *testing.T) {
	runCases(t, validSecret, []tcase[*corev1.Secret]{
		{"key", func(s *corev1.Secret) { s.Data["a b"] = nil }, []fe{{"data[a b]", invalid}}},
		{"stringData key", func(s *corev1.Secret) { s.StringData = map[string]string{"a:b": ""} }, []fe{{"stringData[a:b]", invalid}}},
		{"over 1 MiB", func(s *corev1.Secret) { s.Data["big"] = []byte(bigString(1 << 20)) }, []fe{{"data", tooLong}}},
		{"tls without key", func(s *corev1.Secret) {
			s.Type, s.Data = "kubernetes.io/tls", map[string][]byte{"tls.crt": []byte("cert")}
		}, []fe{{"data[tls.key]", required}}},
		{"tls", func(s *corev1.Secret) {
			s.Type, s.Data = "kubernetes.io/tls", map[string][]byte{"tls.crt": []byte("cert"), "tls.key": []byte("key")}
		}, nil},
		{"dockerconfigjson not JSON", func(s *corev1.Secret) {
			s.Type, s.Data = "kubernetes.io/dockerconfigjson", map[string][]byte{".dockerconfigjson": []byte("{")}
		}, []fe{{"data[.dockerconfigjson]", invalid}}},
		{"dockerconfigjson missing", func(s *corev1.Secret) { s.Type = "kubernetes.io/dockerconfigjson" }, []fe{{"data[.dockerconfigjson]", required}}},
		{"basic-auth without fields", func(s *corev1.Secret) {
			s.Type, s.Data = "kubernetes.io/basic-auth", nil
		}, []fe{{"data[username]", required}, {"data[password]", required}}},
		{"basic-auth", func(s *corev1.Secret) { s.Type = "kubernetes.io/basic-auth" }, nil},
		{"ssh-auth without key", func(s *corev1.Secret) { s.Type = "kubernetes.io/ssh-auth" }, []fe{{"data[ssh-privatekey]", required}}},
		{"service account token without account", func(s *corev1.Secret) {
			s.Type = "kubernetes.io/service-account-token"
		}, []fe{{"metadata.annotations[kubernetes.io/service-account.name]", required}}},
		{"custom type", func(s *corev1.Secret) { s.Type = "example.com/thing" }, nil},
	})
	runUpdateCases(t, validSecret, []updateCase[*corev1.Secret]{
		{"data", func(s *corev1.Secret) { s.Data["password"] = []byte("n3w") }, nil},
		{"type", func(s *corev1.Secret) { s.Type = "kubernetes.io/basic-auth" }, []fe{{"type", invalid}}},
	})
	immutable := func() *corev1.Secret {
		s := validSecret()
		s.Immutable = proto.Bool(true)
		return s
	}
	runUpdateCases(t, immutable, []updateCase[*corev1.Secret]{
		{"data", func(s *corev1.Secret) { s.Data["password"] = []byte("n3w") }, []fe{{"data", forbidden}}},
		{"make mutable", func(s *corev1.Secret) { s.Immutable = proto.Bool(false) }, []fe{{"immutable", forbidden}}},
	})
}
