package kubejson

import (
	"testing"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// FuzzDecodeUnchecked feeds the walker input that was never validated: the lexer assumes valid
// JSON, but must still never panic or loop on anything else.
func FuzzDecodeUnchecked(f *testing.F) {
	for _, s := range []string{`{}`, `{"spec":{"containers":[{"name":"a"}]}}`, `{"a`, `{"metadata":{"name":tru}}`, `[[[`, `}`, `{"spec":{"containers":[1,,]}}`, `-`, `"\`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = decode(data, (&corev1.Pod{}).ProtoReflect(), types["berth.core.v1.Pod"])
		_ = describeRaw(data)
	})
}
