package validation

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// protocols are the port protocols Kubernetes supports.
var protocols = []string{"SCTP", "TCP", "UDP"}

// containers validates a Pod's app containers: at least one, unique DNS-1123 names, and each
// container's fields, probes and lifecycle hooks; host ports must not collide.
func containers(cs []*corev1.Container, vols map[string]*corev1.Volume, grace int64, fldPath *field.Path, isPod bool) field.ErrorList {
	var errs field.ErrorList
	if len(cs) == 0 {
		errs = append(errs, field.Required(fldPath, ""))
	}
	names := map[string]bool{}
	for i, c := range cs {
		p := fldPath.Index(i)
		errs = append(errs, container(c, vols, p, isPod)...)
		if c.GetName() != "" {
			if names[c.GetName()] {
				errs = append(errs, field.Duplicate(p.Child("name"), c.GetName()))
			}
			names[c.GetName()] = true
		}
		if lc := c.GetLifecycle(); lc != nil {
			if lc.PostStart != nil {
				errs = append(errs, lifecycleHandler(lc.PostStart, grace, p.Child("lifecycle", "postStart"))...)
			}
			if lc.PreStop != nil {
				errs = append(errs, lifecycleHandler(lc.PreStop, grace, p.Child("lifecycle", "preStop"))...)
			}
		}
		errs = append(errs, probe(c.GetLivenessProbe(), p.Child("livenessProbe"))...)
		errs = append(errs, probe(c.GetReadinessProbe(), p.Child("readinessProbe"))...)
		errs = append(errs, probe(c.GetStartupProbe(), p.Child("startupProbe"))...)
		if pr := c.GetLivenessProbe(); pr != nil && pr.SuccessThreshold != 1 {
			errs = append(errs, field.Invalid(p.Child("livenessProbe", "successThreshold"), pr.SuccessThreshold, "must be 1"))
		}
		if pr := c.GetStartupProbe(); pr != nil && pr.SuccessThreshold != 1 {
			errs = append(errs, field.Invalid(p.Child("startupProbe", "successThreshold"), pr.SuccessThreshold, "must be 1"))
		}
		if pr := c.GetReadinessProbe(); pr != nil && pr.TerminationGracePeriodSeconds != nil {
			errs = append(errs, field.Invalid(p.Child("readinessProbe", "terminationGracePeriodSeconds"), *pr.TerminationGracePeriodSeconds, "must not be set for readinessProbes"))
		}
	}
	return append(errs, hostPortConflicts(cs, fldPath)...)
}

// initContainers validates a Pod's init containers: names unique among all containers, no
// probes and no lifecycle hooks.
func initContainers(cs, appContainers []*corev1.Container, vols map[string]*corev1.Volume, fldPath *field.Path, isPod bool) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for _, c := range appContainers {
		names[c.GetName()] = true
	}
	for i, c := range cs {
		p := fldPath.Index(i)
		errs = append(errs, container(c, vols, p, isPod)...)
		if c.GetName() != "" {
			if names[c.GetName()] {
				errs = append(errs, field.Duplicate(p.Child("name"), c.GetName()))
			}
			names[c.GetName()] = true
		}
		for _, f := range []struct {
			set  bool
			name string
		}{
			{c.GetLifecycle() != nil, "lifecycle"},
			{c.GetLivenessProbe() != nil, "livenessProbe"},
			{c.GetReadinessProbe() != nil, "readinessProbe"},
			{c.GetStartupProbe() != nil, "startupProbe"},
		} {
			if f.set {
				errs = append(errs, field.Forbidden(p.Child(f.name), "may not be set for init containers"))
			}
		}
	}
	return errs
}

// container validates what app and init containers share.
func container(c *corev1.Container, vols map[string]*corev1.Volume, p *field.Path, isPod bool) field.ErrorList {
	if c == nil {
		c = &corev1.Container{}
	}
	var errs field.ErrorList
	if c.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else {
		errs = append(errs, dnsLabel(c.Name, p.Child("name"))...)
	}
	if c.Image == "" {
		errs = append(errs, field.Required(p.Child("image"), ""))
	} else if isPod && strings.TrimSpace(c.Image) != c.Image {
		errs = append(errs, field.Invalid(p.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	switch c.TerminationMessagePolicy {
	case "File", "FallbackToLogsOnError":
	case "":
		errs = append(errs, field.Required(p.Child("terminationMessagePolicy"), "must be 'File' or 'FallbackToLogsOnError'"))
	default:
		errs = append(errs, field.Invalid(p.Child("terminationMessagePolicy"), c.TerminationMessagePolicy, "must be 'File' or 'FallbackToLogsOnError'"))
	}
	errs = append(errs, containerPorts(c.Ports, p.Child("ports"))...)
	errs = append(errs, envVars(c.Env, p.Child("env"))...)
	errs = append(errs, envFrom(c.EnvFrom, p.Child("envFrom"))...)
	errs = append(errs, volumeMounts(c.VolumeMounts, vols, c, p.Child("volumeMounts"))...)
	errs = append(errs, resourceRequirements(c.Resources, p.Child("resources"))...)
	errs = append(errs, securityContext(c.SecurityContext, p.Child("securityContext"))...)
	errs = append(errs, enum(c.ImagePullPolicy, p.Child("imagePullPolicy"), "Always", "IfNotPresent", "Never")...)
	return errs
}

func containerPorts(ports []*corev1.ContainerPort, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for i, port := range ports {
		p := fldPath.Index(i)
		if name := port.GetName(); name != "" {
			if ms := validation.IsValidPortName(name); len(ms) > 0 {
				errs = append(errs, msgs(ms, p.Child("name"), name)...)
			} else if names[name] {
				errs = append(errs, field.Duplicate(p.Child("name"), name))
			} else {
				names[name] = true
			}
		}
		if port.GetContainerPort() == 0 {
			errs = append(errs, field.Required(p.Child("containerPort"), ""))
		} else {
			errs = append(errs, msgs(validation.IsValidPortNum(int(port.GetContainerPort())), p.Child("containerPort"), port.GetContainerPort())...)
		}
		if port.GetHostPort() != 0 {
			errs = append(errs, msgs(validation.IsValidPortNum(int(port.GetHostPort())), p.Child("hostPort"), port.GetHostPort())...)
		}
		errs = append(errs, enum(port.GetProtocol(), p.Child("protocol"), protocols...)...)
		if port.GetHostIp() != "" {
			errs = append(errs, validation.IsValidIP(p.Child("hostIP"), port.GetHostIp())...)
		}
	}
	return errs
}

// hostPortConflicts reports a hostPort used twice for the same protocol and host IP.
func hostPortConflicts(cs []*corev1.Container, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for ci, c := range cs {
		for pi, port := range c.GetPorts() {
			if port.GetHostPort() == 0 {
				continue
			}
			key := fmt.Sprintf("%s/%s/%d", port.GetProtocol(), port.GetHostIp(), port.GetHostPort())
			if seen[key] {
				errs = append(errs, field.Duplicate(fldPath.Index(ci).Child("ports").Index(pi).Child("hostPort"), key))
			}
			seen[key] = true
		}
	}
	return errs
}

// envFieldPaths are the Pod fields an environment variable may take its value from.
var envFieldPaths = []string{
	"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
	"spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
}

// envResources are the resources an environment variable may take its value from; hugepages
// ("requests.hugepages-2Mi") are accepted by prefix.
var envResources = []string{
	"limits.cpu", "limits.ephemeral-storage", "limits.memory",
	"requests.cpu", "requests.ephemeral-storage", "requests.memory",
}

func envVars(vars []*corev1.EnvVar, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ev := range vars {
		p := fldPath.Index(i)
		if ev.GetName() == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		} else {
			// Kubernetes accepts any printable ASCII name but '=' since 1.32
			// (RelaxedEnvironmentVariableValidation).
			errs = append(errs, msgs(validation.IsRelaxedEnvVarName(ev.GetName()), p.Child("name"), ev.GetName())...)
		}
		errs = append(errs, envVarSource(ev, p.Child("valueFrom"))...)
	}
	return errs
}

func envVarSource(ev *corev1.EnvVar, fldPath *field.Path) field.ErrorList {
	src := ev.GetValueFrom()
	if src == nil {
		return nil
	}
	var errs field.ErrorList
	n := 0
	if src.FieldRef != nil {
		n++
		errs = append(errs, objectFieldSelector(src.FieldRef, envFieldPaths, fldPath.Child("fieldRef"))...)
	}
	if src.ResourceFieldRef != nil {
		n++
		errs = append(errs, resourceFieldSelector(src.ResourceFieldRef, fldPath.Child("resourceFieldRef"))...)
	}
	if src.ConfigMapKeyRef != nil {
		n++
		errs = append(errs, keySelector(src.ConfigMapKeyRef.Name, src.ConfigMapKeyRef.Key, fldPath.Child("configMapKeyRef"))...)
	}
	if src.SecretKeyRef != nil {
		n++
		errs = append(errs, keySelector(src.SecretKeyRef.Name, src.SecretKeyRef.Key, fldPath.Child("secretKeyRef"))...)
	}
	switch {
	case n == 0:
		errs = append(errs, field.Invalid(fldPath, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
	case ev.GetValue() != "":
		errs = append(errs, field.Invalid(fldPath, "", "may not be specified when `value` is not empty"))
	case n > 1:
		errs = append(errs, field.Invalid(fldPath, "", "may not have more than one field specified at a time"))
	}
	return errs
}

func objectFieldSelector(fs *corev1.ObjectFieldSelector, valid []string, fldPath *field.Path) field.ErrorList {
	switch {
	case fs.ApiVersion == "":
		return field.ErrorList{field.Required(fldPath.Child("apiVersion"), "")}
	case fs.FieldPath == "":
		return field.ErrorList{field.Required(fldPath.Child("fieldPath"), "")}
	case fs.ApiVersion != "v1":
		return field.ErrorList{field.Invalid(fldPath.Child("fieldPath"), fs.FieldPath, "error converting fieldPath: unsupported pod version: "+fs.ApiVersion)}
	}
	if path, subscript, ok := splitSubscript(fs.FieldPath); ok {
		switch path {
		case "metadata.annotations":
			return qualifiedName(strings.ToLower(subscript), fldPath)
		case "metadata.labels":
			return qualifiedName(subscript, fldPath)
		default:
			return field.ErrorList{field.Invalid(fldPath, path, "does not support subscript")}
		}
	}
	for _, v := range valid {
		if fs.FieldPath == v {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(fldPath.Child("fieldPath"), fs.FieldPath, valid)}
}

// splitSubscript splits "metadata.labels['key']" into "metadata.labels" and "key".
func splitSubscript(fieldPath string) (path, subscript string, ok bool) {
	s, found := strings.CutSuffix(fieldPath, "']")
	if !found {
		return "", "", false
	}
	path, subscript, ok = strings.Cut(s, "['")
	if !ok || path == "" {
		return "", "", false
	}
	return path, subscript, true
}

func resourceFieldSelector(fs *corev1.ResourceFieldSelector, fldPath *field.Path) field.ErrorList {
	if fs.Resource == "" {
		return field.ErrorList{field.Required(fldPath.Child("resource"), "")}
	}
	known := strings.HasPrefix(fs.Resource, "requests.hugepages-") || strings.HasPrefix(fs.Resource, "limits.hugepages-")
	for _, r := range envResources {
		known = known || fs.Resource == r
	}
	if !known {
		return field.ErrorList{field.NotSupported(fldPath.Child("resource"), fs.Resource, envResources)}
	}
	return resourceDivisor(fs.Resource, fs.Divisor, fldPath.Child("divisor"))
}

func keySelector(name, key string, fldPath *field.Path) field.ErrorList {
	errs := nameRef(name, NameIsDNSSubdomain, fldPath.Child("name"))
	if key == "" {
		return append(errs, field.Required(fldPath.Child("key"), ""))
	}
	return append(errs, msgs(validation.IsConfigMapKey(key), fldPath.Child("key"), key)...)
}

func envFrom(srcs []*corev1.EnvFromSource, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, src := range srcs {
		p := fldPath.Index(i)
		if src.GetPrefix() != "" {
			errs = append(errs, msgs(validation.IsRelaxedEnvVarName(src.GetPrefix()), p.Child("prefix"), src.GetPrefix())...)
		}
		n := 0
		if ref := src.GetConfigMapRef(); ref != nil {
			n++
			errs = append(errs, requiredName(ref.Name, p.Child("configMapRef", "name"))...)
		}
		if ref := src.GetSecretRef(); ref != nil {
			n++
			errs = append(errs, requiredName(ref.Name, p.Child("secretRef", "name"))...)
		}
		switch {
		case n == 0:
			errs = append(errs, field.Invalid(p, "", "must specify one of: `configMapRef` or `secretRef`"))
		case n > 1:
			errs = append(errs, field.Forbidden(p, "may not have more than one field specified at a time"))
		}
	}
	return errs
}

// requiredName reports an empty reference as Required and a malformed one as Invalid.
func requiredName(name string, fldPath *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	return nameRef(name, NameIsDNSSubdomain, fldPath)
}

func securityContext(sc *corev1.SecurityContext, fldPath *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	var errs field.ErrorList
	if sc.RunAsUser != nil {
		errs = append(errs, msgs(validation.IsValidUserID(*sc.RunAsUser), fldPath.Child("runAsUser"), *sc.RunAsUser)...)
	}
	if sc.RunAsGroup != nil {
		errs = append(errs, msgs(validation.IsValidGroupID(*sc.RunAsGroup), fldPath.Child("runAsGroup"), *sc.RunAsGroup)...)
	}
	if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
		if sc.GetPrivileged() {
			errs = append(errs, field.Invalid(fldPath, "", "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
		}
		for _, c := range sc.GetCapabilities().GetAdd() {
			if c == "CAP_SYS_ADMIN" || c == "SYS_ADMIN" {
				errs = append(errs, field.Invalid(fldPath, "", "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
				break
			}
		}
	}
	return errs
}

// probe validates a probe: exactly one handler and non-negative numbers.
func probe(pr *corev1.Probe, fldPath *field.Path) field.ErrorList {
	if pr == nil {
		return nil
	}
	errs := handler(handlers{exec: pr.Exec, httpGet: pr.HttpGet, tcpSocket: pr.TcpSocket, grpc: pr.Grpc}, 0, fldPath)
	errs = append(errs, nonNegative(int64(pr.InitialDelaySeconds), fldPath.Child("initialDelaySeconds"))...)
	errs = append(errs, nonNegative(int64(pr.TimeoutSeconds), fldPath.Child("timeoutSeconds"))...)
	errs = append(errs, nonNegative(int64(pr.PeriodSeconds), fldPath.Child("periodSeconds"))...)
	errs = append(errs, nonNegative(int64(pr.SuccessThreshold), fldPath.Child("successThreshold"))...)
	errs = append(errs, nonNegative(int64(pr.FailureThreshold), fldPath.Child("failureThreshold"))...)
	if pr.TerminationGracePeriodSeconds != nil && *pr.TerminationGracePeriodSeconds <= 0 {
		errs = append(errs, field.Invalid(fldPath.Child("terminationGracePeriodSeconds"), *pr.TerminationGracePeriodSeconds, "must be greater than 0"))
	}
	return errs
}

func lifecycleHandler(h *corev1.LifecycleHandler, grace int64, fldPath *field.Path) field.ErrorList {
	return handler(handlers{exec: h.Exec, httpGet: h.HttpGet, tcpSocket: h.TcpSocket, sleep: h.Sleep}, grace, fldPath)
}

// handlers are the actions of a probe or lifecycle hook, of which exactly one must be set.
type handlers struct {
	exec      *corev1.ExecAction
	httpGet   *corev1.HTTPGetAction
	tcpSocket *corev1.TCPSocketAction
	grpc      *corev1.GRPCAction
	sleep     *corev1.SleepAction
}

func handler(h handlers, grace int64, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	one := func(set bool, name string, validate func(*field.Path) field.ErrorList) {
		if !set {
			return
		}
		if n > 0 {
			errs = append(errs, field.Forbidden(fldPath.Child(name), "may not specify more than 1 handler type"))
			return
		}
		n++
		errs = append(errs, validate(fldPath.Child(name))...)
	}
	one(h.exec != nil, "exec", func(p *field.Path) field.ErrorList {
		if len(h.exec.Command) == 0 {
			return field.ErrorList{field.Required(p.Child("command"), "")}
		}
		return nil
	})
	one(h.httpGet != nil, "httpGet", func(p *field.Path) field.ErrorList { return httpGetAction(h.httpGet, p) })
	one(h.tcpSocket != nil, "tcpSocket", func(p *field.Path) field.ErrorList {
		return portNumOrName(h.tcpSocket.Port, p.Child("port"))
	})
	one(h.grpc != nil, "grpc", func(p *field.Path) field.ErrorList {
		return msgs(validation.IsValidPortNum(int(h.grpc.Port)), p.Child("port"), h.grpc.Port)
	})
	one(h.sleep != nil, "sleep", func(p *field.Path) field.ErrorList {
		if s := h.sleep.Seconds; s < 0 || s > grace {
			return field.ErrorList{field.Invalid(p.Child("seconds"), s, fmt.Sprintf("must be non-negative and less than terminationGracePeriodSeconds (%d)", grace))}
		}
		return nil
	})
	if n == 0 {
		errs = append(errs, field.Required(fldPath, "must specify a handler type"))
	}
	return errs
}

func httpGetAction(h *corev1.HTTPGetAction, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if h.Path == "" {
		errs = append(errs, field.Required(fldPath.Child("path"), ""))
	}
	errs = append(errs, portNumOrName(h.Port, fldPath.Child("port"))...)
	if h.Scheme != "HTTP" && h.Scheme != "HTTPS" {
		errs = append(errs, field.NotSupported(fldPath.Child("scheme"), h.Scheme, []string{"HTTP", "HTTPS"}))
	}
	for _, hdr := range h.HttpHeaders {
		errs = append(errs, msgs(validation.IsHTTPHeaderName(hdr.GetName()), fldPath.Child("httpHeaders"), hdr.GetName())...)
	}
	return errs
}
