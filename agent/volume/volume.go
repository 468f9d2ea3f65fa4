package volume

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/agent/runtime"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Lookup reads the ConfigMaps and Secrets a Pod refers to. A missing object is an error for
// which kerrors.IsNotFound is true. The agent backs it with its apiserver client.
type Lookup interface {
	ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error)
	Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
}

// Kinds of volume directories under a Pod's volumes directory.
const (
	KindEmptyDir  = "empty-dir"
	KindConfigMap = "configmap"
	KindSecret    = "secret"
	KindHostPath  = "host-path" // not a directory of the agent's: the node's own path
)

// Volume is one prepared volume of a Pod.
type Volume struct {
	Name string
	Kind string
	// Path is the volume's path on the node.
	Path string
	// ReadOnly is set for volumes that containers never write (configMap, secret).
	ReadOnly bool
}

// Volumes are a Pod's prepared volumes by name.
type Volumes map[string]Volume

// Error is a volume that could not be set up. Its message reads like the kubelet's
// FailedMount events: `MountVolume.SetUp failed for volume "data" : ...`.
type Error struct {
	Volume string
	Err    error
}

// Error reads like the kubelet's FailedMount event.
func (e *Error) Error() string {
	return fmt.Sprintf("MountVolume.SetUp failed for volume %q : %v", e.Volume, e.Err)
}

// Unwrap returns why the volume failed.
func (e *Error) Unwrap() error { return e.Err }

// Manager prepares Pods' volumes under one root directory.
type Manager struct {
	root   string
	lookup Lookup
	log    *slog.Logger

	tmpfsOnce sync.Once
}

// New returns a Manager keeping Pod directories under root/pods. lookup may be nil when no
// Pod uses configMap or secret volumes.
func New(root string, lookup Lookup, log *slog.Logger) *Manager {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{root: root, lookup: lookup, log: log}
}

// PodDir is the directory of the Pod with this uid.
func (m *Manager) PodDir(uid string) string {
	return filepath.Join(m.root, "pods", uid)
}

func (m *Manager) volumeDir(uid, kind, name string) string {
	return filepath.Join(m.PodDir(uid), "volumes", kind, name)
}

// Setup prepares every volume of pod and returns them by name. Volumes that fail are
// reported together in the error (each an *Error); the others are still prepared.
func (m *Manager) Setup(ctx context.Context, pod *corev1.Pod) (Volumes, error) {
	uid := pod.GetMetadata().GetUid()
	if uid == "" {
		return nil, errors.New("pod has no uid")
	}
	vols := Volumes{}
	var errs []error
	for _, v := range pod.GetSpec().GetVolumes() {
		vol, err := m.setup(ctx, pod, v)
		if err != nil {
			errs = append(errs, &Error{Volume: v.GetName(), Err: err})
			continue
		}
		vols[v.GetName()] = vol
	}
	return vols, errors.Join(errs...)
}

func (m *Manager) setup(ctx context.Context, pod *corev1.Pod, v *corev1.Volume) (Volume, error) {
	uid, ns := pod.GetMetadata().GetUid(), pod.GetMetadata().GetNamespace()
	name := v.GetName()
	switch {
	case v.GetHostPath() != nil:
		p := v.GetHostPath().GetPath()
		if err := checkHostPath(p, v.GetHostPath().GetType()); err != nil {
			return Volume{}, err
		}
		return Volume{Name: name, Kind: KindHostPath, Path: p}, nil
	case v.GetConfigMap() != nil:
		dir := m.volumeDir(uid, KindConfigMap, name)
		files, err := m.configMapFiles(ctx, ns, v.GetConfigMap())
		if err != nil {
			return Volume{}, err
		}
		if _, err := writeAtomic(dir, files); err != nil {
			return Volume{}, err
		}
		return Volume{Name: name, Kind: KindConfigMap, Path: dir, ReadOnly: true}, nil
	case v.GetSecret() != nil:
		dir := m.volumeDir(uid, KindSecret, name)
		files, err := m.secretFiles(ctx, ns, v.GetSecret())
		if err != nil {
			return Volume{}, err
		}
		if _, err := writeAtomic(dir, files); err != nil {
			return Volume{}, err
		}
		return Volume{Name: name, Kind: KindSecret, Path: dir, ReadOnly: true}, nil
	case v.GetPersistentVolumeClaim() != nil, v.GetDownwardApi() != nil:
		return Volume{}, errors.New("volume type not supported by Berth")
	default: // emptyDir, or a volume without a source (an emptyDir by default)
		dir := m.volumeDir(uid, KindEmptyDir, name)
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return Volume{}, fmt.Errorf("create emptyDir: %w", err)
		}
		// 0777 like the kubelet's emptyDir, so any user of the containers can write to it.
		if err := os.Chmod(dir, 0o777); err != nil {
			return Volume{}, fmt.Errorf("chmod emptyDir: %w", err)
		}
		if v.GetEmptyDir().GetMedium() == "Memory" {
			m.setupTmpfs(dir, v.GetEmptyDir().GetSizeLimit())
		}
		return Volume{Name: name, Kind: KindEmptyDir, Path: dir}, nil
	}
}

// setupTmpfs mounts a tmpfs on dir when it is not one already; where the agent may not mount,
// the directory stays a plain one.
func (m *Manager) setupTmpfs(dir, sizeLimit string) {
	if err := mountTmpfs(dir, sizeLimit); err != nil {
		m.tmpfsOnce.Do(func() {
			m.log.Warn("emptyDir medium Memory is a plain directory: cannot mount tmpfs", "dir", dir, "err", err)
		})
	}
}

// Cleanup removes the Pod's directory and everything in it (unmounting its tmpfs volumes
// first). A Pod without a directory is no error.
func (m *Manager) Cleanup(uid string) error {
	if uid == "" || strings.ContainsAny(uid, `/\`) || uid == "." || uid == ".." {
		return fmt.Errorf("bad pod uid %q", uid)
	}
	dir := m.PodDir(uid)
	emptyDirs, _ := filepath.Glob(filepath.Join(dir, "volumes", KindEmptyDir, "*"))
	for _, d := range emptyDirs {
		if err := unmountTmpfs(d); err != nil {
			return fmt.Errorf("pod %s: unmount %s: %w", uid, d, err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("pod %s: remove volumes: %w", uid, err)
	}
	return nil
}

// PodUIDs lists the uids of the Pods that have a directory, for the agent to remove those it
// no longer runs.
func (m *Manager) PodUIDs() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(m.root, "pods"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list pod directories: %w", err)
	}
	var uids []string
	for _, e := range entries {
		if e.IsDir() {
			uids = append(uids, e.Name())
		}
	}
	sort.Strings(uids)
	return uids, nil
}

// checkHostPath checks a hostPath volume's path against its type, creating it for the
// *OrCreate types. The messages are the kubelet's.
func checkHostPath(p, typ string) error {
	if !filepath.IsAbs(p) {
		return fmt.Errorf("hostPath %q is not an absolute path", p)
	}
	fi, statErr := os.Stat(p)
	exists := statErr == nil
	switch typ {
	case "":
		// No check, as in Kubernetes; a missing path becomes a directory, as container
		// runtimes do for bind mounts.
		if !exists {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return fmt.Errorf("create hostPath %s: %w", p, err)
			}
		}
		return nil
	case "DirectoryOrCreate":
		if !exists {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return fmt.Errorf("hostPath type check failed: %s: %w", p, err)
			}
			return nil
		}
		if !fi.IsDir() {
			return fmt.Errorf("hostPath type check failed: %s is not a directory", p)
		}
	case "Directory":
		if !exists || !fi.IsDir() {
			return fmt.Errorf("hostPath type check failed: %s is not a directory", p)
		}
	case "FileOrCreate":
		if !exists {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return fmt.Errorf("hostPath type check failed: %s: %w", p, err)
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_RDONLY, 0o644)
			if err != nil {
				return fmt.Errorf("hostPath type check failed: %s: %w", p, err)
			}
			return f.Close()
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("hostPath type check failed: %s is not a file", p)
		}
	case "File":
		if !exists || !fi.Mode().IsRegular() {
			return fmt.Errorf("hostPath type check failed: %s is not a file", p)
		}
	case "Socket":
		if !exists || fi.Mode()&os.ModeSocket == 0 {
			return fmt.Errorf("hostPath type check failed: %s is not a socket file", p)
		}
	case "CharDevice":
		if !exists || fi.Mode()&os.ModeCharDevice == 0 {
			return fmt.Errorf("hostPath type check failed: %s is not a character device", p)
		}
	case "BlockDevice":
		if !exists || fi.Mode()&os.ModeDevice == 0 || fi.Mode()&os.ModeCharDevice != 0 {
			return fmt.Errorf("hostPath type check failed: %s is not a block device", p)
		}
	default:
		return fmt.Errorf("hostPath type %q is not supported", typ)
	}
	return nil
}

// Mounts turns c's volumeMounts into bind mounts of vols. subPath (or subPathExpr, passed
// through expand, which replaces the $(VAR) references to the container's environment)
// selects a path inside the volume, which is created as a directory when missing and must stay
// inside the volume.
func Mounts(vols Volumes, c *corev1.Container, expand func(string) string) ([]runtime.Mount, error) {
	var mounts []runtime.Mount
	for _, vm := range c.GetVolumeMounts() {
		v, ok := vols[vm.GetName()]
		if !ok {
			return nil, fmt.Errorf("volumeMount %q: no volume of that name is ready", vm.GetName())
		}
		sub := vm.GetSubPath()
		if expr := vm.GetSubPathExpr(); expr != "" {
			sub = expr
			if expand != nil {
				sub = expand(expr)
			}
		}
		host := v.Path
		if sub != "" {
			p, err := subPath(v, sub)
			if err != nil {
				return nil, fmt.Errorf("volumeMount %q: %w", vm.GetName(), err)
			}
			host = p
		}
		mounts = append(mounts, runtime.Mount{
			HostPath:      host,
			ContainerPath: vm.GetMountPath(),
			ReadOnly:      vm.GetReadOnly() || v.ReadOnly,
		})
	}
	return mounts, nil
}

// subPath resolves sub inside the volume, refusing anything that leaves it (through "..", an
// absolute path or a symlink).
func subPath(v Volume, sub string) (string, error) {
	if filepath.IsAbs(sub) {
		return "", fmt.Errorf("subPath %q must be a relative path", sub)
	}
	for _, part := range strings.Split(filepath.ToSlash(sub), "/") {
		if part == ".." {
			return "", fmt.Errorf("subPath %q must not contain '..'", sub)
		}
	}
	base, err := filepath.EvalSymlinks(v.Path)
	if err != nil {
		return "", fmt.Errorf("subPath %q: %w", sub, err)
	}
	inside := func(p string) bool {
		return p == base || strings.HasPrefix(p, base+string(filepath.Separator))
	}
	// Walk one element at a time, so that nothing is created through a symlink that leads out.
	cur := base
	for _, part := range strings.Split(filepath.ToSlash(filepath.Clean(sub)), "/") {
		if part == "" || part == "." {
			continue
		}
		next := filepath.Join(cur, part)
		fi, err := os.Lstat(next)
		switch {
		case errors.Is(err, os.ErrNotExist):
			if v.ReadOnly {
				return "", fmt.Errorf("subPath %q does not exist in volume %q", sub, v.Name)
			}
			if err := os.Mkdir(next, 0o777); err != nil && !errors.Is(err, os.ErrExist) {
				return "", fmt.Errorf("create subPath %q: %w", sub, err)
			}
		case err != nil:
			return "", fmt.Errorf("subPath %q: %w", sub, err)
		case fi.Mode()&os.ModeSymlink != 0:
			r, err := filepath.EvalSymlinks(next)
			if err != nil {
				return "", fmt.Errorf("subPath %q: %w", sub, err)
			}
			if !inside(r) {
				return "", fmt.Errorf("subPath %q resolves outside the volume", sub)
			}
			next = r
		}
		cur = next
	}
	return cur, nil
}

// isNotFound reports whether a Lookup error means the object does not exist.
func isNotFound(err error) bool {
	return kerrors.IsNotFound(err) || errors.Is(err, runtime.ErrNotFound)
}
