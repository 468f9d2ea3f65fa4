package main

import (
	"strconv"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

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
