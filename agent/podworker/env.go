package podworker

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/berth-dev/berth/agent/runtime"
	"github.com/berth-dev/berth/agent/volume"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// envContext is what a container's environment may refer to besides ConfigMaps and Secrets.
type envContext struct {
	pod            *corev1.Pod
	podIP, hostIP  string
	node           runtime.NodeInfo
	lookup         volume.Lookup
	configMapCache map[string]*corev1.ConfigMap
	secretCache    map[string]*corev1.Secret
}

// environment is a container's environment in definition order, with later definitions of a
// name replacing earlier ones in place.
type environment struct {
	names  []string
	values map[string]string
}

func (e *environment) set(name, value string) {
	if e.values == nil {
		e.values = map[string]string{}
	}
	if _, ok := e.values[name]; !ok {
		e.names = append(e.names, name)
	}
	e.values[name] = value
}

func (e *environment) lookup(name string) (string, bool) {
	v, ok := e.values[name]
	return v, ok
}

// list is the environment as "NAME=value".
func (e *environment) list() []string {
	out := make([]string, 0, len(e.names))
	for _, n := range e.names {
		out = append(out, n+"="+e.values[n])
	}
	return out
}

// expand replaces $(NAME) references in s by the environment's values.
func (e *environment) expand(s string) string { return Expand(s, e.lookup) }

// Expand replaces each $(NAME) in s by lookup(NAME), as Kubernetes expands command, args and
// env values: a reference to an undefined name stays as written, $$ is a literal $ (so
// $$(NAME) is the text "$(NAME)"), and a $ before anything else is kept.
func Expand(s string, lookup func(string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok && name != "" {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// errConfig marks an error in what a container's configuration refers to: it shows as
// CreateContainerConfigError.
type errConfig struct{ error }

func (e errConfig) Unwrap() error { return e.error }

func configErrorf(format string, args ...any) error {
	return errConfig{fmt.Errorf(format, args...)}
}

// containerEnv builds c's environment: envFrom in order, then env in order (values expanded
// against what is defined before them), as the kubelet does.
func (ec *envContext) containerEnv(ctx context.Context, c *corev1.Container) (*environment, error) {
	env := &environment{}
	ns := ec.pod.GetMetadata().GetNamespace()
	for _, from := range c.GetEnvFrom() {
		var data map[string]string
		switch {
		case from.GetConfigMapRef() != nil:
			ref := from.GetConfigMapRef()
			cm, err := ec.configMap(ctx, ns, ref.GetName())
			if err != nil {
				if isNotFound(err) && ref.GetOptional() {
					continue
				}
				return nil, err
			}
			data = cm.GetData()
		case from.GetSecretRef() != nil:
			ref := from.GetSecretRef()
			s, err := ec.secret(ctx, ns, ref.GetName())
			if err != nil {
				if isNotFound(err) && ref.GetOptional() {
					continue
				}
				return nil, err
			}
			data = map[string]string{}
			for k, v := range s.GetData() {
				data[k] = string(v)
			}
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			name := from.GetPrefix() + k
			if len(validation.IsEnvVarName(name)) > 0 {
				continue // Kubernetes skips keys that are no valid variable names
			}
			env.set(name, data[k])
		}
	}
	for _, e := range c.GetEnv() {
		if e.GetValueFrom() == nil {
			env.set(e.GetName(), env.expand(e.GetValue()))
			continue
		}
		v, ok, err := ec.valueFrom(ctx, c, e.GetValueFrom())
		if err != nil {
			return nil, err
		}
		if ok {
			env.set(e.GetName(), v)
		}
	}
	return env, nil
}

// valueFrom resolves one env var's source; ok is false for an optional source that is
// missing.
func (ec *envContext) valueFrom(ctx context.Context, c *corev1.Container, src *corev1.EnvVarSource) (string, bool, error) {
	ns := ec.pod.GetMetadata().GetNamespace()
	switch {
	case src.GetConfigMapKeyRef() != nil:
		ref := src.GetConfigMapKeyRef()
		cm, err := ec.configMap(ctx, ns, ref.GetName())
		if err != nil {
			if isNotFound(err) && ref.GetOptional() {
				return "", false, nil
			}
			return "", false, err
		}
		if v, ok := cm.GetData()[ref.GetKey()]; ok {
			return v, true, nil
		}
		if v, ok := cm.GetBinaryData()[ref.GetKey()]; ok {
			return string(v), true, nil
		}
		if ref.GetOptional() {
			return "", false, nil
		}
		return "", false, configErrorf("couldn't find key %s in ConfigMap %s/%s", ref.GetKey(), ns, ref.GetName())
	case src.GetSecretKeyRef() != nil:
		ref := src.GetSecretKeyRef()
		s, err := ec.secret(ctx, ns, ref.GetName())
		if err != nil {
			if isNotFound(err) && ref.GetOptional() {
				return "", false, nil
			}
			return "", false, err
		}
		if v, ok := s.GetData()[ref.GetKey()]; ok {
			return string(v), true, nil
		}
		if ref.GetOptional() {
			return "", false, nil
		}
		return "", false, configErrorf("couldn't find key %s in Secret %s/%s", ref.GetKey(), ns, ref.GetName())
	case src.GetFieldRef() != nil:
		v, err := ec.field(src.GetFieldRef().GetFieldPath())
		return v, err == nil, err
	case src.GetResourceFieldRef() != nil:
		v, err := ec.resourceField(c, src.GetResourceFieldRef())
		return v, err == nil, err
	}
	return "", false, configErrorf("env var source has no value")
}

func (ec *envContext) configMap(ctx context.Context, ns, name string) (*corev1.ConfigMap, error) {
	if cm, ok := ec.configMapCache[name]; ok {
		return cm, nil
	}
	if ec.lookup == nil {
		return nil, configErrorf("configmap %q not found", name)
	}
	cm, err := ec.lookup.ConfigMap(ctx, ns, name)
	if err != nil {
		if isNotFound(err) {
			return nil, errConfig{notFound{fmt.Errorf("configmap %q not found", name)}}
		}
		return nil, fmt.Errorf("get configmap %s/%s: %w", ns, name, err)
	}
	if ec.configMapCache == nil {
		ec.configMapCache = map[string]*corev1.ConfigMap{}
	}
	ec.configMapCache[name] = cm
	return cm, nil
}

func (ec *envContext) secret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	if s, ok := ec.secretCache[name]; ok {
		return s, nil
	}
	if ec.lookup == nil {
		return nil, configErrorf("secret %q not found", name)
	}
	s, err := ec.lookup.Secret(ctx, ns, name)
	if err != nil {
		if isNotFound(err) {
			return nil, errConfig{notFound{fmt.Errorf("secret %q not found", name)}}
		}
		return nil, fmt.Errorf("get secret %s/%s: %w", ns, name, err)
	}
	if ec.secretCache == nil {
		ec.secretCache = map[string]*corev1.Secret{}
	}
	ec.secretCache[name] = s
	return s, nil
}

// notFound marks a missing ConfigMap or Secret.
type notFound struct{ error }

func (e notFound) Unwrap() error { return e.error }

func isNotFound(err error) bool {
	var nf notFound
	return errors.As(err, &nf) || kerrors.IsNotFound(err)
}

// field resolves a fieldRef's path against the Pod.
func (ec *envContext) field(path string) (string, error) {
	md := ec.pod.GetMetadata()
	if key, ok := subscript(path, "metadata.labels"); ok {
		return md.GetLabels()[key], nil
	}
	if key, ok := subscript(path, "metadata.annotations"); ok {
		return md.GetAnnotations()[key], nil
	}
	switch path {
	case "metadata.name":
		return md.GetName(), nil
	case "metadata.namespace":
		return md.GetNamespace(), nil
	case "metadata.uid":
		return md.GetUid(), nil
	case "metadata.labels":
		return formatMap(md.GetLabels()), nil
	case "metadata.annotations":
		return formatMap(md.GetAnnotations()), nil
	case "spec.nodeName":
		return ec.pod.GetSpec().GetNodeName(), nil
	case "spec.serviceAccountName":
		return ec.pod.GetSpec().GetServiceAccountName(), nil
	case "status.podIP", "status.podIPs":
		return ec.podIP, nil
	case "status.hostIP", "status.hostIPs":
		return ec.hostIP, nil
	}
	return "", configErrorf("unsupported fieldRef path %q", path)
}

// subscript parses `prefix['key']`.
func subscript(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix+"['")
	if !ok || !strings.HasSuffix(rest, "']") {
		return "", false
	}
	return strings.TrimSuffix(rest, "']"), true
}

// formatMap renders labels or annotations as the downward API does: key="value" lines, sorted.
func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, 0, len(keys))
	for _, k := range keys {
		lines = append(lines, k+"="+strconv.Quote(m[k]))
	}
	return strings.Join(lines, "\n")
}

// resourceField resolves a resourceFieldRef: a request or limit of a container, divided by the
// divisor and rounded up; an unset limit is the Node's capacity.
func (ec *envContext) resourceField(c *corev1.Container, ref *corev1.ResourceFieldSelector) (string, error) {
	target := c
	if name := ref.GetContainerName(); name != "" && name != c.GetName() {
		target = nil
		for _, other := range append(append([]*corev1.Container(nil), ec.pod.GetSpec().GetContainers()...), ec.pod.GetSpec().GetInitContainers()...) {
			if other.GetName() == name {
				target = other
			}
		}
		if target == nil {
			return "", configErrorf("resourceFieldRef: no container %q", name)
		}
	}
	kind, res, ok := strings.Cut(ref.GetResource(), ".")
	if !ok || (kind != "limits" && kind != "requests") {
		return "", configErrorf("unsupported resourceFieldRef resource %q", ref.GetResource())
	}
	var list map[string]string
	if kind == "limits" {
		list = target.GetResources().GetLimits()
	} else {
		list = target.GetResources().GetRequests()
	}
	var q resource.Quantity
	if s, set := list[res]; set {
		parsed, err := resource.ParseQuantity(s)
		if err != nil {
			return "", configErrorf("resourceFieldRef %s: %v", ref.GetResource(), err)
		}
		q = parsed
	} else if kind == "limits" {
		switch res {
		case "cpu":
			q = *resource.NewQuantity(int64(max(ec.node.CPUs, 1)), resource.DecimalSI)
		case "memory":
			q = *resource.NewQuantity(ec.node.MemoryBytes, resource.BinarySI)
		}
	}
	divisor := resource.MustParse("1")
	if d := ref.GetDivisor(); d != "" {
		parsed, err := resource.ParseQuantity(d)
		if err != nil || parsed.IsZero() {
			return "", configErrorf("resourceFieldRef divisor %q is invalid", d)
		}
		divisor = parsed
	}
	if res == "cpu" {
		return strconv.FormatInt(int64(math.Ceil(float64(q.MilliValue())/float64(divisor.MilliValue()))), 10), nil
	}
	return strconv.FormatInt(int64(math.Ceil(float64(q.Value())/float64(divisor.Value()))), 10), nil
}
