package validation_test

import (
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/berth-dev/berth/pkg/defaults"
	"github.com/berth-dev/berth/pkg/kubejson"
	"github.com/berth-dev/berth/pkg/scheme"
	"github.com/berth-dev/berth/pkg/validation"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// fuzzKind builds objects of one kind from fuzz input (Kubernetes JSON or YAML through the
// strict decoder, else protobuf wire format) and checks that validation and defaulting never
// panic, that defaulting is idempotent, that a valid object stays valid once defaulted, and that
// a valid defaulted object may be updated with itself.
func fuzzKind(f *testing.F, r *scheme.Resource, seeds ...scheme.Object) {
	for _, s := range seeds {
		if b, err := proto.Marshal(s); err == nil {
			f.Add(b)
		}
		if b, err := kubejson.Marshal(s); err == nil {
			f.Add(b)
		}
		if b, err := protojson.Marshal(s); err == nil {
			f.Add(b)
		}
	}
	for _, doc := range exampleDocs(f, r) {
		f.Add(doc)
	}
	f.Add([]byte(`{"metadata":{"name":"x","namespace":"default"},"spec":{}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		obj := r.New()
		if err := kubejson.Unmarshal(data, obj); err != nil {
			obj = r.New()
			if err := proto.Unmarshal(data, obj); err != nil {
				return
			}
		}
		errs := validation.Object(obj)
		validation.ObjectUpdate(obj, proto.Clone(obj).(scheme.Object))
		validation.ObjectUpdate(obj, r.New())

		d := proto.Clone(obj).(scheme.Object)
		defaults.Object(d)
		again := proto.Clone(d).(scheme.Object)
		defaults.Object(again)
		if !proto.Equal(d, again) {
			t.Fatalf("defaulting is not idempotent:\nonce  %v\ntwice %v", d, again)
		}
		same := proto.Clone(d).(scheme.Object)
		defaults.ObjectUpdate(same, d)
		if !proto.Equal(d, same) {
			t.Fatalf("defaulting an update that changes nothing changed %v\ninto %v", d, same)
		}
		derrs := validation.Object(d)
		if len(errs) == 0 && len(derrs) > 0 && !defaultedDeadlineConflict(obj, derrs) {
			t.Fatalf("valid object %v\nis invalid once defaulted: %v", obj, derrs)
		}
		if len(derrs) == 0 {
			if uerrs := validation.ObjectUpdate(again, d); len(uerrs) > 0 {
				t.Fatalf("valid object %v\nupdated with itself: %v", d, uerrs)
			}
		}
	})
}

// defaultedDeadlineConflict is the one way defaulting can make a valid object invalid, as in
// Kubernetes: a Deployment without progressDeadlineSeconds whose minReadySeconds is at least
// the default deadline (600).
func defaultedDeadlineConflict(o scheme.Object, errs field.ErrorList) bool {
	d, ok := o.(*appsv1.Deployment)
	if !ok || d.GetSpec().ProgressDeadlineSeconds != nil {
		return false
	}
	for _, e := range errs {
		if e.Field != "spec.progressDeadlineSeconds" {
			return false
		}
	}
	return true
}

func FuzzValidatePod(f *testing.F) { fuzzKind(f, scheme.Pods, validPod(), richPod()) }

func FuzzValidateDeployment(f *testing.F) { fuzzKind(f, scheme.Deployments, validDeployment()) }

func FuzzValidateReplicaSet(f *testing.F) { fuzzKind(f, scheme.ReplicaSets, validReplicaSet()) }

func FuzzValidateReplicationController(f *testing.F) {
	fuzzKind(f, scheme.ReplicationControllers, validRC())
}

func FuzzValidateService(f *testing.F) {
	headless := validService()
	headless.Spec.ClusterIp, headless.Spec.ClusterIps = "None", []string{"None"}
	nodePort := validService()
	nodePort.Spec.Type, nodePort.Spec.ExternalTrafficPolicy = "NodePort", "Cluster"
	nodePort.Spec.Ports[0].NodePort = 30080
	fuzzKind(f, scheme.Services, validService(), headless, nodePort)
}

func FuzzValidateEndpoints(f *testing.F) { fuzzKind(f, scheme.Endpoints, validEndpoints()) }

func FuzzValidateConfigMap(f *testing.F) { fuzzKind(f, scheme.ConfigMaps, validConfigMap()) }

func FuzzValidateSecret(f *testing.F) {
	tls := validSecret()
	tls.Type, tls.Data = "kubernetes.io/tls", map[string][]byte{"tls.crt": []byte("c"), "tls.key": []byte("k")}
	fuzzKind(f, scheme.Secrets, validSecret(), tls)
}

func FuzzValidateNamespace(f *testing.F) { fuzzKind(f, scheme.Namespaces, validNamespace()) }

func FuzzValidateNode(f *testing.F) { fuzzKind(f, scheme.Nodes, validNode()) }

func FuzzValidateEvent(f *testing.F) { fuzzKind(f, scheme.Events, validEvent()) }

func FuzzValidateLease(f *testing.F) { fuzzKind(f, scheme.Leases, validLease()) }

// richPod is a valid Pod that sets most of what a PodSpec has, as a fuzz seed.
func richPod() *corev1.Pod {
	p := validPod()
	p.Spec.InitContainers = []*corev1.Container{{Name: "init", Image: "busybox", Command: []string{"true"}}}
	c := p.Spec.Containers[0]
	c.EnvFrom = []*corev1.EnvFromSource{{Prefix: "CFG_", ConfigMapRef: &corev1.ConfigMapEnvSource{Name: "cfg"}}}
	c.Env = append(c.Env,
		&corev1.EnvVar{Name: "CPU", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu", Divisor: "1m"}}},
		&corev1.EnvVar{Name: "PW", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Name: "creds", Key: "password"}}})
	c.StartupProbe = &corev1.Probe{Exec: &corev1.ExecAction{Command: []string{"true"}}}
	c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 5}}}
	c.SecurityContext = &corev1.SecurityContext{RunAsUser: proto.Int64(1000), Capabilities: &corev1.Capabilities{Drop: []string{"ALL"}}}
	p.Spec.Volumes = append(p.Spec.Volumes,
		&corev1.Volume{Name: "host", HostPath: &corev1.HostPathVolumeSource{Path: "/var/log", Type: proto.String("Directory")}},
		&corev1.Volume{Name: "creds", Secret: &corev1.SecretVolumeSource{SecretName: "creds", Items: []*corev1.KeyToPath{{Key: "password", Path: "pw"}}}})
	p.Spec.Affinity = nodeAffinity(&corev1.NodeSelectorRequirement{Key: "zone", Operator: "In", Values: []string{"a", "b"}})
	p.Spec.TopologySpreadConstraints = []*corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: "ScheduleAnyway"}}
	p.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	p.Spec.HostAliases = []*corev1.HostAlias{{Ip: "10.0.0.5", Hostnames: []string{"db.local"}}}
	p.Spec.DnsPolicy, p.Spec.DnsConfig = "None", &corev1.PodDNSConfig{Nameservers: []string{"10.96.0.10"}, Searches: []string{"svc.cluster.local"}}
	p.Spec.Hostname, p.Spec.Subdomain = "web-0", "web"
	return defaulted(p)
}
