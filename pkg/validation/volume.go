package validation

import (
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

const fileModeErrorMsg = "must be a number between 0 and 0777 (octal), both inclusive"

// hostPathTypes are the values of hostPath.type.
var hostPathTypes = []string{"", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"}

// volumes validates a Pod's volumes (unique DNS-1123 names, exactly one source each) and
// returns them by name, for the volume mounts to refer to.
func volumes(vols []*corev1.Volume, fldPath *field.Path) (map[string]*corev1.Volume, field.ErrorList) {
	var errs field.ErrorList
	byName := map[string]*corev1.Volume{}
	for i, v := range vols {
		p := fldPath.Index(i)
		errs = append(errs, volumeSource(v, p)...)
		name := v.GetName()
		if name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
			continue
		}
		errs = append(errs, dnsLabel(name, p.Child("name"))...)
		if _, dup := byName[name]; dup {
			errs = append(errs, field.Duplicate(p.Child("name"), name))
			continue
		}
		byName[name] = v
	}
	return byName, errs
}

func volumeSource(v *corev1.Volume, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	one := func(set bool, name string, validate func(*field.Path) field.ErrorList) {
		if !set {
			return
		}
		if n > 0 {
			errs = append(errs, field.Forbidden(fldPath.Child(name), "may not specify more than 1 volume type"))
			return
		}
		n++
		errs = append(errs, validate(fldPath.Child(name))...)
	}
	one(v.GetEmptyDir() != nil, "emptyDir", func(p *field.Path) field.ErrorList { return emptyDir(v.EmptyDir, p) })
	one(v.GetHostPath() != nil, "hostPath", func(p *field.Path) field.ErrorList { return hostPath(v.HostPath, p) })
	one(v.GetSecret() != nil, "secret", func(p *field.Path) field.ErrorList {
		var errs field.ErrorList
		if v.Secret.SecretName == "" {
			errs = append(errs, field.Required(p.Child("secretName"), ""))
		}
		return append(errs, projection(v.Secret.DefaultMode, v.Secret.Items, p)...)
	})
	one(v.GetPersistentVolumeClaim() != nil, "persistentVolumeClaim", func(p *field.Path) field.ErrorList {
		if v.PersistentVolumeClaim.ClaimName == "" {
			return field.ErrorList{field.Required(p.Child("claimName"), "")}
		}
		return nil
	})
	one(v.GetDownwardApi() != nil, "downwardAPI", func(p *field.Path) field.ErrorList {
		return fileMode(v.DownwardApi.DefaultMode, p.Child("defaultMode"))
	})
	one(v.GetConfigMap() != nil, "configMap", func(p *field.Path) field.ErrorList {
		var errs field.ErrorList
		if v.ConfigMap.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		}
		return append(errs, projection(v.ConfigMap.DefaultMode, v.ConfigMap.Items, p)...)
	})
	if n == 0 {
		errs = append(errs, field.Required(fldPath, "must specify a volume type"))
	}
	return errs
}

func emptyDir(e *corev1.EmptyDirVolumeSource, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if e.Medium != "" && e.Medium != "Memory" {
		errs = append(errs, field.NotSupported(fldPath.Child("medium"), e.Medium, []string{"", "Memory"}))
	}
	if e.SizeLimit != nil {
		q, err := resource.ParseQuantity(*e.SizeLimit)
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(fldPath.Child("sizeLimit"), *e.SizeLimit, err.Error()))
		case q.Sign() < 0:
			errs = append(errs, field.Forbidden(fldPath.Child("sizeLimit"), "SizeLimit field must be a valid resource quantity"))
		}
	}
	return errs
}

// hostPath requires an absolute path (Docker would take a relative one for a named volume)
// without "..", and a known type.
func hostPath(h *corev1.HostPathVolumeSource, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	p := fldPath.Child("path")
	if h.Path == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	if !path.IsAbs(h.Path) {
		errs = append(errs, field.Invalid(p, h.Path, "must be an absolute path"))
	}
	errs = append(errs, noBacksteps(h.Path, p)...)
	if h.Type != nil {
		errs = append(errs, oneOf(*h.Type, fldPath.Child("type"), hostPathTypes...)...)
	}
	return errs
}

// oneOf reports a value outside valid (which may include "") as NotSupported.
func oneOf(value string, fldPath *field.Path, valid ...string) field.ErrorList {
	for _, v := range valid {
		if value == v {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(fldPath, value, valid)}
}

// projection validates the defaultMode and items of a ConfigMap or Secret volume.
func projection(mode *int32, items []*corev1.KeyToPath, fldPath *field.Path) field.ErrorList {
	errs := fileMode(mode, fldPath.Child("defaultMode"))
	for i, kp := range items {
		p := fldPath.Child("items").Index(i)
		if kp.GetKey() == "" {
			errs = append(errs, field.Required(p.Child("key"), ""))
		}
		if kp.GetPath() == "" {
			errs = append(errs, field.Required(p.Child("path"), ""))
		}
		errs = append(errs, localNonReservedPath(kp.GetPath(), p.Child("path"))...)
		errs = append(errs, fileMode(kp.Mode, p.Child("mode"))...)
	}
	return errs
}

func fileMode(mode *int32, fldPath *field.Path) field.ErrorList {
	if mode != nil && (*mode < 0 || *mode > 0o777) {
		return field.ErrorList{field.Invalid(fldPath, *mode, fileModeErrorMsg)}
	}
	return nil
}

// volumeMounts validates a container's mounts: each names a volume of the Pod and has a unique
// absolute mountPath; subPath and subPathExpr are relative and stay inside the volume.
func volumeMounts(mounts []*corev1.VolumeMount, vols map[string]*corev1.Volume, c *corev1.Container, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, m := range mounts {
		p := fldPath.Index(i)
		if m.GetName() == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		} else if _, ok := vols[m.GetName()]; !ok {
			errs = append(errs, field.NotFound(p.Child("name"), m.GetName()))
		}
		mp := m.GetMountPath()
		switch {
		case mp == "":
			errs = append(errs, field.Required(p.Child("mountPath"), ""))
		case !path.IsAbs(mp):
			errs = append(errs, field.Invalid(p.Child("mountPath"), mp, "must be an absolute path"))
		case seen[mp]:
			errs = append(errs, field.Invalid(p.Child("mountPath"), mp, "must be unique"))
		}
		seen[mp] = true
		if m.GetSubPath() != "" {
			errs = append(errs, localDescendingPath(m.GetSubPath(), p.Child("subPath"))...)
		}
		if m.GetSubPathExpr() != "" {
			if m.GetSubPath() != "" {
				errs = append(errs, field.Invalid(p.Child("subPathExpr"), m.GetSubPathExpr(), "subPathExpr and subPath are mutually exclusive"))
			}
			errs = append(errs, localDescendingPath(m.GetSubPathExpr(), p.Child("subPathExpr"))...)
		}
		switch m.GetMountPropagation() {
		case "", "None", "HostToContainer":
		case "Bidirectional":
			if !c.GetSecurityContext().GetPrivileged() {
				errs = append(errs, field.Forbidden(p.Child("mountPropagation"), "Bidirectional mount propagation is available only to privileged containers"))
			}
		default:
			errs = append(errs, field.NotSupported(p.Child("mountPropagation"), m.GetMountPropagation(), []string{"Bidirectional", "HostToContainer", "None"}))
		}
	}
	return errs
}

// localDescendingPath requires a relative path without "..".
func localDescendingPath(target string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if path.IsAbs(target) {
		errs = append(errs, field.Invalid(fldPath, target, "must be a relative path"))
	}
	return append(errs, noBacksteps(target, fldPath)...)
}

// localNonReservedPath is localDescendingPath that also refuses a leading "..".
func localNonReservedPath(target string, fldPath *field.Path) field.ErrorList {
	errs := localDescendingPath(target, fldPath)
	if strings.HasPrefix(target, "..") {
		errs = append(errs, field.Invalid(fldPath, target, "must not start with '..'"))
	}
	return errs
}

func noBacksteps(target string, fldPath *field.Path) field.ErrorList {
	for _, part := range strings.Split(target, "/") {
		if part == ".." {
			return field.ErrorList{field.Invalid(fldPath, target, "must not contain '..'")}
		}
	}
	return nil
}
