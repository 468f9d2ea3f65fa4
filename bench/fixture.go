package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// podKeyPrefix is where the apiserver keeps Pods in etcd, as Kubernetes does:
// /registry/<group>/<resource>/<namespace>/<name>.
const podKeyPrefix = "/registry/core/pods/"

// sentAnnotation carries the time (Unix nanoseconds) a writer sent a Pod, so that a watcher can
// tell how long the Pod took to reach it.
const sentAnnotation = "bench.berth.dev/sent-unix-nano"

// podTemplate is what a Deployment's Pod typically looks like: owner reference, labels, one
// container with ports, environment, resources, mounts and probes, and two volumes. Stored with
// the apiserver's defaults it is about 1 KiB of protobuf.
var podTemplate = &corev1.Pod{
	Metadata: &metav1.ObjectMeta{
		Labels: map[string]string{
			"app.kubernetes.io/name":    "checkout",
			"app.kubernetes.io/part-of": "shop",
			"pod-template-hash":         "7d9f8c6b5",
			"tier":                      "backend",
		},
		Annotations: map[string]string{
			"prometheus.io/scrape": "true",
			"prometheus.io/port":   "9090",
		},
		OwnerReferences: []*metav1.OwnerReference{{
			ApiVersion: "apps/v1", Kind: "ReplicaSet", Name: "checkout-7d9f8c6b5",
			Uid: "5b0c3a8e-2f4d-4c61-9a7e-0d1f2e3c4b5a", Controller: proto.Bool(true), BlockOwnerDeletion: proto.Bool(true),
		}},
	},
	Spec: &corev1.PodSpec{
		Containers: []*corev1.Container{{
			Name:  "checkout",
			Image: "registry.example.com/shop/checkout:v1.42.3",
			Args:  []string{"--listen=:8080", "--metrics=:9090", "--log-level=info"},
			Ports: []*corev1.ContainerPort{
				{Name: "http", ContainerPort: 8080},
				{Name: "metrics", ContainerPort: 9090},
			},
			Env: []*corev1.EnvVar{
				{Name: "DATABASE_HOST", Value: "postgres.shop.svc.cluster.local"},
				{Name: "CACHE_TTL", Value: "300s"},
				{Name: "FEATURE_FLAGS", Value: "new-cart,fast-checkout"},
			},
			Resources: &corev1.ResourceRequirements{
				Requests: map[string]string{"cpu": "250m", "memory": "256Mi"},
				Limits:   map[string]string{"cpu": "1", "memory": "512Mi"},
			},
			VolumeMounts: []*corev1.VolumeMount{
				{Name: "config", MountPath: "/etc/checkout", ReadOnly: true},
				{Name: "cache", MountPath: "/var/cache/checkout"},
			},
			LivenessProbe: &corev1.Probe{
				HttpGet:          &corev1.HTTPGetAction{Path: "/healthz", Port: structpb.NewStringValue("http")},
				PeriodSeconds:    10,
				FailureThreshold: 3,
			},
			ReadinessProbe: &corev1.Probe{
				HttpGet:       &corev1.HTTPGetAction{Path: "/readyz", Port: structpb.NewNumberValue(8080)},
				PeriodSeconds: 5,
			},
		}},
		Volumes: []*corev1.Volume{
			{Name: "config", ConfigMap: &corev1.ConfigMapVolumeSource{Name: "checkout-config"}},
			{Name: "cache", EmptyDir: &corev1.EmptyDirVolumeSource{}},
		},
		NodeSelector:       map[string]string{"kubernetes.io/os": "linux"},
		ServiceAccountName: "checkout",
		Tolerations: []*corev1.Toleration{
			{Key: "node.kubernetes.io/not-ready", Operator: "Exists", Effect: "NoExecute", TolerationSeconds: proto.Int64(300)},
		},
	},
}

// newPod returns a copy of the template named namespace/name.
func newPod(namespace, name string) *corev1.Pod {
	p := proto.Clone(podTemplate).(*corev1.Pod)
	p.Metadata.Namespace, p.Metadata.Name = namespace, name
	return p
}

// podName is the name of the seq-th Pod of a benchmark.
func podName(prefix string, seq int) string {
	return prefix + "-" + strconv.Itoa(seq)
}

// storeTemplate creates the template Pod through the apiserver and keeps the bytes it stored in
// etcd, so that raw etcd writes store exactly what Pod creates store.
func (r *runner) storeTemplate(ctx context.Context) error {
	if err := r.env.createNamespace(ctx, "bench"); err != nil {
		return err
	}
	if _, err := r.env.podClient(0).Create(ctx, newPod("bench", "template")); err != nil {
		return fmt.Errorf("create the template pod: %w", err)
	}
	const key = podKeyPrefix + "bench/template"
	resp, err := r.env.etcd.Client.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("read the stored template pod: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return errors.New("the template pod is not stored at " + key)
	}
	r.stored = resp.Kvs[0].Value
	r.rep.storedPodBytes = len(r.stored)
	r.rep.requestPodBytes = proto.Size(newPod("bench", "template"))
	return nil
}

// rawPut is an etcd put of the stored Pod at key.
func (r *runner) rawPut(ctx context.Context, c *clientv3.Client, key string) (int, error) {
	_, err := c.Put(ctx, key, string(r.stored))
	return len(key) + len(r.stored), err
}

// ensurePods creates n Pods in the namespace "pods-<n>" once.
func (r *runner) ensurePods(ctx context.Context, n int) (namespace string, err error) {
	namespace = fmt.Sprintf("pods-%d", n)
	if r.fixtures[namespace] {
		return namespace, nil
	}
	if err := r.env.createNamespace(ctx, namespace); err != nil {
		return "", err
	}
	err = parallel(ctx, n, 32, func(ctx context.Context, i int) error {
		_, err := r.env.podClient(i).Create(ctx, newPod(namespace, podName("pod", i)))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("create %d pods: %w", n, err)
	}
	r.fixtures[namespace] = true
	return namespace, nil
}

// ensureKeys puts n copies of the stored Pod under the prefix "/bench/keys-<n>/" once.
func (r *runner) ensureKeys(ctx context.Context, n int) (prefix string, err error) {
	prefix = fmt.Sprintf("/bench/keys-%d/", n)
	if r.fixtures[prefix] {
		return prefix, nil
	}
	err = parallel(ctx, n, 32, func(ctx context.Context, i int) error {
		_, err := r.rawPut(ctx, r.env.etcdClient(i), prefix+podName("pod", i))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("put %d keys: %w", n, err)
	}
	r.fixtures[prefix] = true
	return prefix, nil
}

// podCount is the number of Pods stored, for the report.
func (r *runner) podCount(ctx context.Context) (int64, error) {
	resp, err := r.env.etcd.Client.Get(ctx, podKeyPrefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("count pods: %w", err)
	}
	return resp.Count, nil
}

// cleanup deletes what a benchmark wrote under the key prefixes (Pods go through the
// apiserver's watch cache as deletions) and compacts etcd's history, so that the benchmarks
// after it start from the same state. Fixtures are not cleaned up: they are shared.
func (r *runner) cleanup(ctx context.Context, prefixes ...string) error {
	var rev int64
	for _, p := range prefixes {
		resp, err := r.env.etcd.Client.Delete(ctx, p, clientv3.WithPrefix())
		if err != nil {
			return fmt.Errorf("clean up %s: %w", p, err)
		}
		rev = resp.Header.Revision
	}
	if _, err := r.env.etcd.Client.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
		return fmt.Errorf("compact etcd to %d: %w", rev, err)
	}
	return nil
}
