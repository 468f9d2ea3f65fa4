package validation_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/defaults"
	"github.com/berth-dev/berth/pkg/validation"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// BenchmarkDefaultAndValidatePod measures what the apiserver spends per Pod create.
func BenchmarkDefaultAndValidatePod(b *testing.B) {
	p := richPod()
	b.ReportAllocs()
	for b.Loop() {
		c := proto.Clone(p).(*corev1.Pod)
		defaults.Object(c)
		if errs := validation.Object(c); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

// BenchmarkValidatePodUpdate measures a Pod update's validation.
func BenchmarkValidatePodUpdate(b *testing.B) {
	old := richPod()
	n := proto.Clone(old).(*corev1.Pod)
	n.Spec.Containers[0].Image = "nginx:1.26"
	b.ReportAllocs()
	for b.Loop() {
		if errs := validation.ObjectUpdate(n, old); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}
