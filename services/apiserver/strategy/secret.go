package strategy

import (
	"context"

	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// secret adds to base: stringData is write-only, merged into data on every write.
type secret struct{ *base }

func (s *secret) PrepareForCreate(ctx context.Context, obj scheme.Object) {
	mergeStringData(obj.(*corev1.Secret))
	s.base.PrepareForCreate(ctx, obj)
}

func (s *secret) PrepareForUpdate(ctx context.Context, obj, old scheme.Object) {
	mergeStringData(obj.(*corev1.Secret))
	s.base.PrepareForUpdate(ctx, obj, old)
}

func mergeStringData(s *corev1.Secret) {
	if len(s.StringData) == 0 {
		return
	}
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}
