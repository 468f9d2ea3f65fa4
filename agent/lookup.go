package agent

import (
	"context"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// lookup reads the ConfigMaps and Secrets Pods refer to (env valueFrom, envFrom, configMap
// and secret volumes) straight from the apiserver: always current, and nothing cached per
// Node, which keeps a thousand hollow Nodes cheap. A missing object is a NotFound error.
type lookup struct {
	configMaps, secrets *client.ResourceClient
}

func newLookup(c *client.Client) *lookup {
	return &lookup{configMaps: c.Resource(scheme.ConfigMaps), secrets: c.Resource(scheme.Secrets)}
}

// ConfigMap reads namespace/name.
func (l *lookup) ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	obj, err := l.configMaps.Get(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.ConfigMap), nil
}

// Secret reads namespace/name.
func (l *lookup) Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	obj, err := l.secrets.Get(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.Secret), nil
}
