package validation_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/validation"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func validPod() *corev1.Pod {
	return defaulted(&corev1.Pod{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec: &corev1.PodSpec{
			Volumes: []*corev1.Volume{
				{Name: "data", EmptyDir: &corev1.EmptyDirVolumeSource{}},
				{Name: "cfg", ConfigMap: &corev1.ConfigMapVolumeSource{Name: "cfg"}},
			},
			Containers: []*corev1.Container{{
				Name:  "app",
				Image: "nginx:1.25",
				Ports: []*corev1.ContainerPort{{Name: "http", ContainerPort: 80}},
				Env: []*corev1.EnvVar{
					{Name: "MODE", Value: "prod"},
					{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
				},
				Resources: &corev1.ResourceRequirements{
					Requests: map[string]string{"cpu": "100m", "memory": "64Mi"},
					Limits:   map[string]string{"cpu": "1", "memory": "128Mi"},
				},
				VolumeMounts:   []*corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
				ReadinessProbe: &corev1.Probe{HttpGet: &corev1.HTTPGetAction{Path: "/healthz", Port: str("http")}},
				LivenessProbe:  &corev1.Probe{TcpSocket: &corev1.TCPSocketAction{Port: num(80)}},
			}},
			Tolerations: []*corev1.Toleration{{Key: "dedicated", Operator: "Equal", Value: "web", Effect: "NoSchedule"}},
		},
	})
}

func ctr(p *corev1.Pod) *corev1.Container { return p.Spec.Containers[0] }

const c0 = "spec.containers[0]"

func TestPod(t *testing.T) {
	runCases(t, validPod, []tcase[*corev1.Pod]{
		// Metadata.
		{"name not a subdomain", func(p *corev1.Pod) { p.Metadata.Name = "Web" }, []fe{{"metadata.name", invalid}}},
		{"no name", func(p *corev1.Pod) { p.Metadata.Name = "" }, []fe{{"metadata.name", required}}},
		{"bad generateName", func(p *corev1.Pod) { p.Metadata.GenerateName = "Web-" }, []fe{{"metadata.generateName", invalid}}},
		{"no namespace", func(p *corev1.Pod) { p.Metadata.Namespace = "" }, []fe{{"metadata.namespace", required}}},
		{"bad label key", func(p *corev1.Pod) { p.Metadata.Labels["bad key"] = "x" }, []fe{{"metadata.labels", invalid}}},
		{"label value too long", func(p *corev1.Pod) { p.Metadata.Labels["app"] = bigString(64) }, []fe{{"metadata.labels", invalid}}},
		{"bad annotation key", func(p *corev1.Pod) { p.Metadata.Annotations = map[string]string{"a/b/c": ""} }, []fe{{"metadata.annotations", invalid}}},
		{"annotations over 256 KiB", func(p *corev1.Pod) {
			p.Metadata.Annotations = map[string]string{"big": bigString(256 * 1024)}
		}, []fe{{"metadata.annotations", tooLong}}},
		{"owner reference without uid", func(p *corev1.Pod) {
			p.Metadata.OwnerReferences = []*metav1.OwnerReference{{ApiVersion: "apps/v1", Kind: "ReplicaSet", Name: "web"}}
		}, []fe{{"metadata.ownerReferences.uid", invalid}}},
		{"two controllers", func(p *corev1.Pod) {
			p.Metadata.OwnerReferences = []*metav1.OwnerReference{
				{ApiVersion: "apps/v1", Kind: "ReplicaSet", Name: "a", Uid: "1", Controller: proto.Bool(true)},
				{ApiVersion: "apps/v1", Kind: "ReplicaSet", Name: "b", Uid: "2", Controller: proto.Bool(true)},
			}
		}, []fe{{"metadata.ownerReferences", invalid}}},
		{"bad finalizer", func(p *corev1.Pod) { p.Metadata.Finalizers = []string{"a/b/c"} }, []fe{{"metadata.finalizers", invalid}}},

		// Containers.
		{"no containers", func(p *corev1.Pod) { p.Spec.Containers = nil }, []fe{{"spec.containers", required}}},
		{"container name not a label", func(p *corev1.Pod) { ctr(p).Name = "App_1" }, []fe{{c0 + ".name", invalid}}},
		{"container name missing", func(p *corev1.Pod) { ctr(p).Name = "" }, []fe{{c0 + ".name", required}}},
		{"duplicate container names", func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, proto.Clone(ctr(p)).(*corev1.Container))
		}, []fe{{"spec.containers[1].name", duplicate}}},
		{"init container named like an app container", func(p *corev1.Pod) {
			init := proto.Clone(ctr(p)).(*corev1.Container)
			init.LivenessProbe, init.ReadinessProbe = nil, nil
			p.Spec.InitContainers = []*corev1.Container{init}
		}, []fe{{"spec.initContainers[0].name", duplicate}}},
		{"init container with a probe", func(p *corev1.Pod) {
			init := proto.Clone(ctr(p)).(*corev1.Container)
			init.Name, init.LivenessProbe = "init", nil
			p.Spec.InitContainers = []*corev1.Container{init}
		}, []fe{{"spec.initContainers[0].readinessProbe", forbidden}}},
		{"no image", func(p *corev1.Pod) { ctr(p).Image = "" }, []fe{{c0 + ".image", required}}},
		{"image with spaces", func(p *corev1.Pod) { ctr(p).Image = " nginx" }, []fe{{c0 + ".image", invalid}}},
		{"image pull policy", func(p *corev1.Pod) { ctr(p).ImagePullPolicy = "Sometimes" }, []fe{{c0 + ".imagePullPolicy", notSupported}}},
		{"no image pull policy", func(p *corev1.Pod) { ctr(p).ImagePullPolicy = "" }, []fe{{c0 + ".imagePullPolicy", required}}},
		{"termination message policy", func(p *corev1.Pod) { ctr(p).TerminationMessagePolicy = "Log" }, []fe{{c0 + ".terminationMessagePolicy", invalid}}},

		// Ports.
		{"container port 0", func(p *corev1.Pod) { ctr(p).Ports[0].ContainerPort = 0 }, []fe{{c0 + ".ports[0].containerPort", required}}},
		{"container port too big", func(p *corev1.Pod) { ctr(p).Ports[0].ContainerPort = 65536 }, []fe{{c0 + ".ports[0].containerPort", invalid}}},
		{"host port too big", func(p *corev1.Pod) { ctr(p).Ports[0].HostPort = 70000 }, []fe{{c0 + ".ports[0].hostPort", invalid}}},
		{"bad port name", func(p *corev1.Pod) { ctr(p).Ports[0].Name = "Http" }, []fe{{c0 + ".ports[0].name", invalid}}},
		{"duplicate port names", func(p *corev1.Pod) {
			ctr(p).Ports = append(ctr(p).Ports, &corev1.ContainerPort{Name: "http", ContainerPort: 81, Protocol: "TCP"})
		}, []fe{{c0 + ".ports[1].name", duplicate}}},
		{"unknown protocol", func(p *corev1.Pod) { ctr(p).Ports[0].Protocol = "ICMP" }, []fe{{c0 + ".ports[0].protocol", notSupported}}},
		{"no protocol", func(p *corev1.Pod) { ctr(p).Ports[0].Protocol = "" }, []fe{{c0 + ".ports[0].protocol", required}}},
		{"host port used twice", func(p *corev1.Pod) {
			ctr(p).Ports = []*corev1.ContainerPort{
				{ContainerPort: 80, HostPort: 8080, Protocol: "TCP"},
				{ContainerPort: 81, HostPort: 8080, Protocol: "TCP"},
			}
		}, []fe{{c0 + ".ports[1].hostPort", duplicate}}},

		// Environment.
		{"env without name", func(p *corev1.Pod) { ctr(p).Env[0].Name = "" }, []fe{{c0 + ".env[0].name", required}}},
		{"env name with =", func(p *corev1.Pod) { ctr(p).Env[0].Name = "A=B" }, []fe{{c0 + ".env[0].name", invalid}}},
		{"valueFrom without source", func(p *corev1.Pod) { ctr(p).Env[1].ValueFrom = &corev1.EnvVarSource{} }, []fe{{c0 + ".env[1].valueFrom", invalid}}},
		{"valueFrom with two sources", func(p *corev1.Pod) {
			ctr(p).Env[1].ValueFrom.SecretKeyRef = &corev1.SecretKeySelector{Name: "s", Key: "k"}
		}, []fe{{c0 + ".env[1].valueFrom", invalid}}},
		{"valueFrom and value", func(p *corev1.Pod) { ctr(p).Env[1].Value = "x" }, []fe{{c0 + ".env[1].valueFrom", invalid}}},
		{"unknown fieldRef", func(p *corev1.Pod) { ctr(p).Env[1].ValueFrom.FieldRef.FieldPath = "spec.schedulerName" }, []fe{{c0 + ".env[1].valueFrom.fieldRef.fieldPath", notSupported}}},
		{"bad label subscript", func(p *corev1.Pod) { ctr(p).Env[1].ValueFrom.FieldRef.FieldPath = "metadata.labels['a b']" }, []fe{{c0 + ".env[1].valueFrom.fieldRef", invalid}}},
		{"configMapKeyRef without key", func(p *corev1.Pod) {
			ctr(p).Env[1].ValueFrom = &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{Name: "cfg"}}
		}, []fe{{c0 + ".env[1].valueFrom.configMapKeyRef.key", required}}},
		{"resourceFieldRef with a bad divisor", func(p *corev1.Pod) {
			ctr(p).Env[1].ValueFrom = &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu", Divisor: "1Mi"}}
		}, []fe{{c0 + ".env[1].valueFrom.resourceFieldRef.divisor", invalid}}},
		{"resourceFieldRef to an unknown resource", func(p *corev1.Pod) {
			ctr(p).Env[1].ValueFrom = &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.gpu"}}
		}, []fe{{c0 + ".env[1].valueFrom.resourceFieldRef.resource", notSupported}}},
		{"envFrom without source", func(p *corev1.Pod) { ctr(p).EnvFrom = []*corev1.EnvFromSource{{}} }, []fe{{c0 + ".envFrom[0]", invalid}}},
		{"envFrom with two sources", func(p *corev1.Pod) {
			ctr(p).EnvFrom = []*corev1.EnvFromSource{{
				ConfigMapRef: &corev1.ConfigMapEnvSource{Name: "a"}, SecretRef: &corev1.SecretEnvSource{Name: "b"},
			}}
		}, []fe{{c0 + ".envFrom[0]", forbidden}}},
		{"envFrom without name", func(p *corev1.Pod) {
			ctr(p).EnvFrom = []*corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{}}}
		}, []fe{{c0 + ".envFrom[0].configMapRef.name", required}}},

		// Resources.
		{"unparsable quantity", func(p *corev1.Pod) { ctr(p).Resources.Limits["cpu"] = "lots" }, []fe{{c0 + ".resources.limits[cpu]", invalid}}},
		{"negative quantity", func(p *corev1.Pod) { ctr(p).Resources.Requests["memory"] = "-1Mi" }, []fe{{c0 + ".resources.requests[memory]", invalid}}},
		{"request above limit", func(p *corev1.Pod) { ctr(p).Resources.Requests["cpu"] = "2" }, []fe{{c0 + ".resources.requests", invalid}}},
		{"unknown resource", func(p *corev1.Pod) { ctr(p).Resources.Requests["gpu"] = "1" }, []fe{{c0 + ".resources.requests[gpu]", invalid}}},
		{"extended resource without limit", func(p *corev1.Pod) { ctr(p).Resources.Requests["example.com/dongle"] = "1" }, []fe{{c0 + ".resources.limits", required}}},
		{"extended resource request below limit", func(p *corev1.Pod) {
			ctr(p).Resources.Requests["example.com/dongle"] = "1"
			ctr(p).Resources.Limits["example.com/dongle"] = "2"
		}, []fe{{c0 + ".resources.requests", invalid}}},
		{"fractional extended resource", func(p *corev1.Pod) {
			ctr(p).Resources.Requests["example.com/dongle"] = "500m"
			ctr(p).Resources.Limits["example.com/dongle"] = "500m"
		}, []fe{{c0 + ".resources.requests[example.com/dongle]", invalid}, {c0 + ".resources.limits[example.com/dongle]", invalid}}},

		// Volumes and mounts.
		{"duplicate volume", func(p *corev1.Pod) { p.Spec.Volumes[1].Name = "data" }, []fe{{"spec.volumes[1].name", duplicate}}},
		{"volume name not a label", func(p *corev1.Pod) {
			p.Spec.Volumes = append(p.Spec.Volumes, &corev1.Volume{Name: "Tmp", EmptyDir: &corev1.EmptyDirVolumeSource{}})
		}, []fe{{"spec.volumes[2].name", invalid}}},
		{"volume without source", func(p *corev1.Pod) { p.Spec.Volumes[0].EmptyDir = nil }, []fe{{"spec.volumes[0]", required}}},
		{"volume with two sources", func(p *corev1.Pod) {
			p.Spec.Volumes[0].HostPath = &corev1.HostPathVolumeSource{Path: "/srv"}
		}, []fe{{"spec.volumes[0].hostPath", forbidden}}},
		{"relative hostPath", func(p *corev1.Pod) {
			p.Spec.Volumes[0] = &corev1.Volume{Name: "data", HostPath: &corev1.HostPathVolumeSource{Path: "srv/data"}}
		}, []fe{{"spec.volumes[0].hostPath.path", invalid}}},
		{"hostPath type", func(p *corev1.Pod) {
			p.Spec.Volumes[0] = &corev1.Volume{Name: "data", HostPath: &corev1.HostPathVolumeSource{Path: "/srv", Type: proto.String("Folder")}}
		}, []fe{{"spec.volumes[0].hostPath.type", notSupported}}},
		{"emptyDir medium", func(p *corev1.Pod) { p.Spec.Volumes[0].EmptyDir.Medium = "HugePages" }, []fe{{"spec.volumes[0].emptyDir.medium", notSupported}}},
		{"configMap volume without name", func(p *corev1.Pod) { p.Spec.Volumes[1].ConfigMap.Name = "" }, []fe{{"spec.volumes[1].configMap.name", required}}},
		{"configMap volume mode", func(p *corev1.Pod) { p.Spec.Volumes[1].ConfigMap.DefaultMode = proto.Int32(0o1000) }, []fe{{"spec.volumes[1].configMap.defaultMode", invalid}}},
		{"configMap item escapes", func(p *corev1.Pod) {
			p.Spec.Volumes[1].ConfigMap.Items = []*corev1.KeyToPath{{Key: "k", Path: "../etc/passwd"}}
		}, []fe{{"spec.volumes[1].configMap.items[0].path", invalid}, {"spec.volumes[1].configMap.items[0].path", invalid}}},
		{"secret volume without name", func(p *corev1.Pod) {
			p.Spec.Volumes[1] = &corev1.Volume{Name: "cfg", Secret: &corev1.SecretVolumeSource{}}
		}, []fe{{"spec.volumes[1].secret.secretName", required}}},
		{"mount of a missing volume", func(p *corev1.Pod) { ctr(p).VolumeMounts[0].Name = "nope" }, []fe{{c0 + ".volumeMounts[0].name", notFound}}},
		{"relative mount path", func(p *corev1.Pod) { ctr(p).VolumeMounts[0].MountPath = "data" }, []fe{{c0 + ".volumeMounts[0].mountPath", invalid}}},
		{"no mount path", func(p *corev1.Pod) { ctr(p).VolumeMounts[0].MountPath = "" }, []fe{{c0 + ".volumeMounts[0].mountPath", required}}},
		{"mount path twice", func(p *corev1.Pod) {
			ctr(p).VolumeMounts = append(ctr(p).VolumeMounts, &corev1.VolumeMount{Name: "cfg", MountPath: "/data"})
		}, []fe{{c0 + ".volumeMounts[1].mountPath", invalid}}},
		{"absolute subPath", func(p *corev1.Pod) { ctr(p).VolumeMounts[0].SubPath = "/x" }, []fe{{c0 + ".volumeMounts[0].subPath", invalid}}},

		// Probes and hooks.
		{"probe without handler", func(p *corev1.Pod) { ctr(p).ReadinessProbe.HttpGet = nil }, []fe{{c0 + ".readinessProbe", required}}},
		{"probe with two handlers", func(p *corev1.Pod) {
			ctr(p).ReadinessProbe.Exec = &corev1.ExecAction{Command: []string{"true"}}
		}, []fe{{c0 + ".readinessProbe.httpGet", forbidden}}},
		{"exec without command", func(p *corev1.Pod) {
			ctr(p).ReadinessProbe = &corev1.Probe{Exec: &corev1.ExecAction{}, TimeoutSeconds: 1, PeriodSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1}
		}, []fe{{c0 + ".readinessProbe.exec.command", required}}},
		{"negative period", func(p *corev1.Pod) { ctr(p).ReadinessProbe.PeriodSeconds = -1 }, []fe{{c0 + ".readinessProbe.periodSeconds", invalid}}},
		{"liveness success threshold", func(p *corev1.Pod) { ctr(p).LivenessProbe.SuccessThreshold = 2 }, []fe{{c0 + ".livenessProbe.successThreshold", invalid}}},
		{"probe port 0", func(p *corev1.Pod) { ctr(p).LivenessProbe.TcpSocket.Port = num(0) }, []fe{{c0 + ".livenessProbe.tcpSocket.port", invalid}}},
		{"probe port missing", func(p *corev1.Pod) { ctr(p).LivenessProbe.TcpSocket.Port = nil }, []fe{{c0 + ".livenessProbe.tcpSocket.port", invalid}}},
		{"probe port numeric string", func(p *corev1.Pod) { ctr(p).LivenessProbe.TcpSocket.Port = str("8080") }, []fe{{c0 + ".livenessProbe.tcpSocket.port", invalid}}},
		{"probe port fraction", func(p *corev1.Pod) { ctr(p).LivenessProbe.TcpSocket.Port = num(80.5) }, []fe{{c0 + ".livenessProbe.tcpSocket.port", invalid}}},
		{"probe port neither int nor string", func(p *corev1.Pod) { ctr(p).LivenessProbe.TcpSocket.Port = boolean(true) }, []fe{{c0 + ".livenessProbe.tcpSocket.port", invalid}}},
		{"http scheme", func(p *corev1.Pod) { ctr(p).ReadinessProbe.HttpGet.Scheme = "FTP" }, []fe{{c0 + ".readinessProbe.httpGet.scheme", notSupported}}},
		{"preStop sleep beyond grace period", func(p *corev1.Pod) {
			ctr(p).Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 31}}}
		}, []fe{{c0 + ".lifecycle.preStop.sleep.seconds", invalid}}},

		// Pod-level fields.
		{"restart policy", func(p *corev1.Pod) { p.Spec.RestartPolicy = "Sometimes" }, []fe{{"spec.restartPolicy", notSupported}}},
		{"no restart policy", func(p *corev1.Pod) { p.Spec.RestartPolicy = "" }, []fe{{"spec.restartPolicy", required}}},
		{"dns policy", func(p *corev1.Pod) { p.Spec.DnsPolicy = "Google" }, []fe{{"spec.dnsPolicy", notSupported}}},
		{"dns policy None without config", func(p *corev1.Pod) { p.Spec.DnsPolicy = "None" }, []fe{{"spec.dnsConfig", required}}},
		{"dns nameserver", func(p *corev1.Pod) {
			p.Spec.DnsConfig = &corev1.PodDNSConfig{Nameservers: []string{"dns.example"}}
		}, []fe{{"spec.dnsConfig.nameservers[0]", invalid}}},
		{"node selector", func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"disk": "fast ssd"} }, []fe{{"spec.nodeSelector", invalid}}},
		{"hostname", func(p *corev1.Pod) { p.Spec.Hostname = "web.1" }, []fe{{"spec.hostname", invalid}}},
		{"subdomain", func(p *corev1.Pod) { p.Spec.Subdomain = "Web" }, []fe{{"spec.subdomain", invalid}}},
		{"node name", func(p *corev1.Pod) { p.Spec.NodeName = "Node_1" }, []fe{{"spec.nodeName", invalid}}},
		{"negative grace period", func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = proto.Int64(-1) }, []fe{{"spec.terminationGracePeriodSeconds", invalid}}},
		{"active deadline 0", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = proto.Int64(0) }, []fe{{"spec.activeDeadlineSeconds", invalid}}},
		{"run as user", func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsUser = proto.Int64(-1) }, []fe{{"spec.securityContext.runAsUser", invalid}}},
		{"privileged without escalation", func(p *corev1.Pod) {
			ctr(p).SecurityContext = &corev1.SecurityContext{Privileged: proto.Bool(true), AllowPrivilegeEscalation: proto.Bool(false)}
		}, []fe{{c0 + ".securityContext", invalid}}},
		{"sysctl name", func(p *corev1.Pod) {
			p.Spec.SecurityContext.Sysctls = []*corev1.Sysctl{{Name: "Net.Core"}}
		}, []fe{{"spec.securityContext.sysctls[0].name", invalid}}},
		{"host alias ip", func(p *corev1.Pod) {
			p.Spec.HostAliases = []*corev1.HostAlias{{Ip: "not-an-ip", Hostnames: []string{"db"}}}
		}, []fe{{"spec.hostAliases[0].ip", invalid}}},

		// Tolerations.
		{"toleration operator", func(p *corev1.Pod) { p.Spec.Tolerations[0].Operator = "Maybe" }, []fe{{"spec.tolerations[0].operator", notSupported}}},
		{"toleration effect", func(p *corev1.Pod) { p.Spec.Tolerations[0].Effect = "NoWay" }, []fe{{"spec.tolerations[0].effect", notSupported}}},
		{"toleration Exists with value", func(p *corev1.Pod) { p.Spec.Tolerations[0].Operator = "Exists" }, []fe{{"spec.tolerations[0].operator", invalid}}},
		{"toleration without key", func(p *corev1.Pod) { p.Spec.Tolerations[0].Key = "" }, []fe{{"spec.tolerations[0].operator", invalid}}},
		{"tolerationSeconds without NoExecute", func(p *corev1.Pod) {
			p.Spec.Tolerations[0].TolerationSeconds = proto.Int64(10)
		}, []fe{{"spec.tolerations[0].effect", invalid}}},
		{"toleration key", func(p *corev1.Pod) { p.Spec.Tolerations[0].Key = "a b" }, []fe{{"spec.tolerations[0].key", invalid}}},

		// Affinity and spreading.
		{"node affinity In without values", func(p *corev1.Pod) {
			p.Spec.Affinity = nodeAffinity(&corev1.NodeSelectorRequirement{Key: "zone", Operator: "In"})
		}, []fe{{nodeReq + ".values", required}}},
		{"node affinity Gt with two values", func(p *corev1.Pod) {
			p.Spec.Affinity = nodeAffinity(&corev1.NodeSelectorRequirement{Key: "cores", Operator: "Gt", Values: []string{"1", "2"}})
		}, []fe{{nodeReq + ".values", required}}},
		{"node affinity Exists with values", func(p *corev1.Pod) {
			p.Spec.Affinity = nodeAffinity(&corev1.NodeSelectorRequirement{Key: "gpu", Operator: "Exists", Values: []string{"x"}})
		}, []fe{{nodeReq + ".values", forbidden}}},
		{"node affinity operator", func(p *corev1.Pod) {
			p.Spec.Affinity = nodeAffinity(&corev1.NodeSelectorRequirement{Key: "zone", Operator: "Near", Values: []string{"a"}})
		}, []fe{{nodeReq + ".operator", invalid}}},
		{"node affinity without terms", func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{}}}
		}, []fe{{"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms", required}}},
		{"preferred weight", func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []*corev1.PreferredSchedulingTerm{
				{Weight: 0, Preference: &corev1.NodeSelectorTerm{}},
			}}}
		}, []fe{{"spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight", invalid}}},
		{"match field key", func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []*corev1.NodeSelectorTerm{{MatchFields: []*corev1.NodeSelectorRequirement{{Key: "metadata.uid", Operator: "In", Values: []string{"x"}}}}},
			}}}
		}, []fe{{"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].key", invalid}}},
		{"spread maxSkew", func(p *corev1.Pod) {
			p.Spec.TopologySpreadConstraints = []*corev1.TopologySpreadConstraint{{MaxSkew: 0, TopologyKey: "zone", WhenUnsatisfiable: "DoNotSchedule"}}
		}, []fe{{"spec.topologySpreadConstraints[0].maxSkew", invalid}}},
		{"spread whenUnsatisfiable", func(p *corev1.Pod) {
			p.Spec.TopologySpreadConstraints = []*corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: "Whatever"}}
		}, []fe{{"spec.topologySpreadConstraints[0].whenUnsatisfiable", notSupported}}},
		{"spread without topology key", func(p *corev1.Pod) {
			p.Spec.TopologySpreadConstraints = []*corev1.TopologySpreadConstraint{{MaxSkew: 1, WhenUnsatisfiable: "DoNotSchedule"}}
		}, []fe{{"spec.topologySpreadConstraints[0].topologyKey", required}}},
		{"spread selector", func(p *corev1.Pod) {
			p.Spec.TopologySpreadConstraints = []*corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: "DoNotSchedule",
				LabelSelector: &metav1.LabelSelector{MatchExpressions: []*metav1.LabelSelectorRequirement{{Key: "app", Operator: "Like"}}}}}
		}, []fe{{"spec.topologySpreadConstraints[0].labelSelector.matchExpressions[0].operator", invalid}}},

		// Fields Berth refuses (unsupported.go).
		{"hostNetwork", func(p *corev1.Pod) { p.Spec.HostNetwork = true }, []fe{{"spec.hostNetwork", forbidden}}},
		{"hostPID", func(p *corev1.Pod) { p.Spec.HostPid = true }, []fe{{"spec.hostPID", forbidden}}},
		{"hostIPC", func(p *corev1.Pod) { p.Spec.HostIpc = true }, []fe{{"spec.hostIPC", forbidden}}},
		{"podAffinity", func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{}}
		}, []fe{{"spec.affinity.podAffinity", forbidden}}},
		{"podAntiAffinity", func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAffinity{}}
		}, []fe{{"spec.affinity.podAntiAffinity", forbidden}}},
		{"persistentVolumeClaim", func(p *corev1.Pod) {
			p.Spec.Volumes[1] = &corev1.Volume{Name: "cfg", PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "c"}}
		}, []fe{{"spec.volumes[1].persistentVolumeClaim", forbidden}}},
		{"downwardAPI", func(p *corev1.Pod) {
			p.Spec.Volumes[1] = &corev1.Volume{Name: "cfg", DownwardApi: &corev1.DownwardAPIVolumeSource{}}
		}, []fe{{"spec.volumes[1].downwardAPI", forbidden}}},
		{"grpc probe", func(p *corev1.Pod) {
			ctr(p).LivenessProbe = &corev1.Probe{Grpc: &corev1.GRPCAction{Port: 9000}, TimeoutSeconds: 1, PeriodSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1}
		}, []fe{{c0 + ".livenessProbe.grpc", forbidden}}},
		{"sidecar restartPolicy", func(p *corev1.Pod) {
			always := "Always"
			ctr(p).RestartPolicy = &always
		}, []fe{{c0 + ".restartPolicy", forbidden}}},
	})
}

const nodeReq = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0]"

func nodeAffinity(req *corev1.NodeSelectorRequirement) *corev1.Affinity {
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []*corev1.NodeSelectorTerm{{MatchExpressions: []*corev1.NodeSelectorRequirement{req}}},
	}}}
}

// TestPodMessages checks that errors read exactly like Kubernetes'.
func TestPodMessages(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*corev1.Pod)
		want   string
	}{
		{"image", func(p *corev1.Pod) { ctr(p).Image = "" }, "spec.containers[0].image: Required value"},
		{"name", func(p *corev1.Pod) { p.Metadata.Name = "Foo" },
			`metadata.name: Invalid value: "Foo": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`},
		{"restartPolicy", func(p *corev1.Pod) { p.Spec.RestartPolicy = "Sometimes" },
			`spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"`},
		{"port", func(p *corev1.Pod) { ctr(p).Ports[0].ContainerPort = 70000 },
			`spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive`},
		{"hostNetwork", func(p *corev1.Pod) { p.Spec.HostNetwork = true }, "spec.hostNetwork: Forbidden: not supported by Berth"},
		{"quantity", func(p *corev1.Pod) { ctr(p).Resources.Limits["cpu"] = "lots" },
			`spec.containers[0].resources.limits[cpu]: Invalid value: "lots": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`},
		{"request above limit", func(p *corev1.Pod) { ctr(p).Resources.Requests["cpu"] = "2" },
			`spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1`},
		{"volume mount", func(p *corev1.Pod) { ctr(p).VolumeMounts[0].Name = "nope" },
			`spec.containers[0].volumeMounts[0].name: Not found: "nope"`},
		{"port neither int nor string", func(p *corev1.Pod) { ctr(p).LivenessProbe.TcpSocket.Port = boolean(true) },
			`spec.containers[0].livenessProbe.tcpSocket.port: Invalid value: "true": must be an integer or a string`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := validPod()
			tc.mutate(p)
			errs := validation.Pod(p)
			if len(errs) != 1 || errs[0].Error() != tc.want {
				t.Errorf("got %v\nwant %s", errs, tc.want)
			}
		})
	}
}

func TestPodUpdate(t *testing.T) {
	runUpdateCases(t, validPod, []updateCase[*corev1.Pod]{
		{"image", func(p *corev1.Pod) { ctr(p).Image = "nginx:1.26" }, nil},
		{"labels", func(p *corev1.Pod) { p.Metadata.Labels["v"] = "2" }, nil},
		{"add toleration", func(p *corev1.Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, &corev1.Toleration{Key: "k", Operator: "Exists"})
		}, nil},
		{"set active deadline", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = proto.Int64(60) }, nil},
		{"ports", func(p *corev1.Pod) { ctr(p).Ports[0].ContainerPort = 81 }, []fe{{"spec", forbidden}}},
		{"add container", func(p *corev1.Pod) {
			c := proto.Clone(ctr(p)).(*corev1.Container)
			c.Name = "sidecar"
			p.Spec.Containers = append(p.Spec.Containers, c)
		}, []fe{{"spec", forbidden}}},
		{"remove toleration", func(p *corev1.Pod) { p.Spec.Tolerations = nil }, []fe{{"spec.tolerations", forbidden}}},
		{"name", func(p *corev1.Pod) { p.Metadata.Name = "web2" }, []fe{{"metadata.name", invalid}}},
		{"namespace", func(p *corev1.Pod) { p.Metadata.Namespace = "other" }, []fe{{"metadata.namespace", invalid}}},
		{"uid", func(p *corev1.Pod) { p.Metadata.Uid = "other" }, []fe{{"metadata.uid", invalid}}},
		{"invalid new spec", func(p *corev1.Pod) { ctr(p).Image = "" }, []fe{{c0 + ".image", required}}},
	})

	t.Run("active deadline", func(t *testing.T) {
		old := validPod()
		old.Spec.ActiveDeadlineSeconds = proto.Int64(60)
		for _, tc := range []struct {
			value *int64
			want  []fe
		}{
			{proto.Int64(30), nil},
			{proto.Int64(120), []fe{{"spec.activeDeadlineSeconds", invalid}}},
			{nil, []fe{{"spec.activeDeadlineSeconds", invalid}}},
		} {
			n := proto.Clone(old).(*corev1.Pod)
			n.Spec.ActiveDeadlineSeconds = tc.value
			checkErrs(t, validation.PodUpdate(n, old), tc.want)
		}
	})

	t.Run("message names the changed field", func(t *testing.T) {
		old := validPod()
		n := proto.Clone(old).(*corev1.Pod)
		ctr(n).Ports[0].ContainerPort = 81
		errs := validation.PodUpdate(n, old)
		if len(errs) != 1 || !strings.Contains(errs[0].Detail, "pod updates may not change fields other than `spec.containers[*].image`") ||
			!strings.Contains(errs[0].Detail, "spec.containers[0].ports[0].containerPort") {
			t.Errorf("got %v", errs)
		}
	})
}
