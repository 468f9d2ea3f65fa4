package volume

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/berth-dev/berth/agent/runtime"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// objects is a Lookup over a fixed set of ConfigMaps and Secrets, as the agent's client
// answers: a missing object is a NotFound StatusError.
type objects struct {
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
}

func (o *objects) ConfigMap(_ context.Context, ns, name string) (*corev1.ConfigMap, error) {
	if cm, ok := o.configMaps[ns+"/"+name]; ok {
		return cm, nil
	}
	return nil, kerrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, name)
}

func (o *objects) Secret(_ context.Context, ns, name string) (*corev1.Secret, error) {
	if s, ok := o.secrets[ns+"/"+name]; ok {
		return s, nil
	}
	return nil, kerrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
}

func podWith(vols ...*corev1.Volume) *corev1.Pod {
	return &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Name: "p", Namespace: "ns", Uid: "uid-1"},
		Spec:     &corev1.PodSpec{Volumes: vols},
	}
}

func TestHostPathTypes(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "dir")
	regular := filepath.Join(base, "file")
	sock := filepath.Join(base, "sock")
	must(t, os.Mkdir(dir, 0o755))
	must(t, os.WriteFile(regular, []byte("x"), 0o644))
	l, err := net.Listen("unix", sock)
	must(t, err)
	defer l.Close()

	tests := []struct {
		name, path, typ string
		wantErr         string
		created         os.FileMode // ModeDir or 0 (regular file) when the check creates the path
	}{
		{"unset type, existing dir", dir, "", "", 0},
		{"unset type creates a missing dir", filepath.Join(base, "new0"), "", "", os.ModeDir},
		{"DirectoryOrCreate creates", filepath.Join(base, "new1", "sub"), "DirectoryOrCreate", "", os.ModeDir},
		{"DirectoryOrCreate on a file", regular, "DirectoryOrCreate", "hostPath type check failed: " + regular + " is not a directory", 0},
		{"Directory exists", dir, "Directory", "", 0},
		{"Directory missing", filepath.Join(base, "nope"), "Directory", "is not a directory", 0},
		{"Directory on a file", regular, "Directory", "is not a directory", 0},
		{"FileOrCreate creates", filepath.Join(base, "new2", "f"), "FileOrCreate", "", 0},
		{"FileOrCreate on a dir", dir, "FileOrCreate", "is not a file", 0},
		{"File exists", regular, "File", "", 0},
		{"File missing", filepath.Join(base, "nope"), "File", "hostPath type check failed: " + filepath.Join(base, "nope") + " is not a file", 0},
		{"Socket", sock, "Socket", "", 0},
		{"Socket on a file", regular, "Socket", "is not a socket file", 0},
		{"CharDevice", "/dev/null", "CharDevice", "", 0},
		{"CharDevice on a file", regular, "CharDevice", "is not a character device", 0},
		{"BlockDevice on a char device", "/dev/null", "BlockDevice", "is not a block device", 0},
		{"unknown type", dir, "Fancy", `hostPath type "Fancy" is not supported`, 0},
		{"relative path", "rel/path", "", "is not an absolute path", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(t.TempDir(), nil, nil)
			vols, err := m.Setup(context.Background(), podWith(&corev1.Volume{
				Name: "h", HostPath: &corev1.HostPathVolumeSource{Path: tt.path, Type: proto.String(tt.typ)},
			}))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				var verr *Error
				if !errors.As(err, &verr) || verr.Volume != "h" {
					t.Fatalf("err %v is not a *Error for volume h", err)
				}
				if !strings.HasPrefix(err.Error(), `MountVolume.SetUp failed for volume "h" : `) {
					t.Errorf("err = %q, want the kubelet's FailedMount wording", err)
				}
				return
			}
			must(t, err)
			if got := vols["h"]; got.Path != tt.path || got.Kind != KindHostPath || got.ReadOnly {
				t.Errorf("volume = %+v", got)
			}
			fi, err := os.Stat(tt.path)
			must(t, err)
			if tt.created == os.ModeDir && !fi.IsDir() {
				t.Errorf("%s is not a directory", tt.path)
			}
		})
	}
}

func TestEmptyDir(t *testing.T) {
	root := t.TempDir()
	m := New(root, nil, nil)
	pod := podWith(
		&corev1.Volume{Name: "cache", EmptyDir: &corev1.EmptyDirVolumeSource{}},
		&corev1.Volume{Name: "nosource"},
	)
	vols, err := m.Setup(context.Background(), pod)
	must(t, err)
	for _, name := range []string{"cache", "nosource"} {
		want := filepath.Join(root, "pods", "uid-1", "volumes", KindEmptyDir, name)
		if vols[name].Path != want {
			t.Errorf("%s path = %q, want %q", name, vols[name].Path, want)
		}
		fi, err := os.Stat(want)
		must(t, err)
		if !fi.IsDir() || fi.Mode().Perm() != 0o777 {
			t.Errorf("%s mode = %v, want a 0777 directory", name, fi.Mode())
		}
	}
	// Data survives another Setup.
	must(t, os.WriteFile(filepath.Join(vols["cache"].Path, "f"), []byte("x"), 0o644))
	_, err = m.Setup(context.Background(), pod)
	must(t, err)
	if _, err := os.Stat(filepath.Join(vols["cache"].Path, "f")); err != nil {
		t.Errorf("file lost on second Setup: %v", err)
	}
	uids, err := m.PodUIDs()
	must(t, err)
	if !reflect.DeepEqual(uids, []string{"uid-1"}) {
		t.Errorf("PodUIDs = %v", uids)
	}
	must(t, m.Cleanup("uid-1"))
	if _, err := os.Stat(m.PodDir("uid-1")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pod dir still there after Cleanup: %v", err)
	}
	must(t, m.Cleanup("uid-1")) // nothing left: no error
	for _, bad := range []string{"", "..", "a/b"} {
		if err := m.Cleanup(bad); err == nil {
			t.Errorf("Cleanup(%q) succeeded", bad)
		}
	}
}

func TestEmptyDirMemory(t *testing.T) {
	root := t.TempDir()
	m := New(root, nil, nil)
	pod := podWith(&corev1.Volume{Name: "mem", EmptyDir: &corev1.EmptyDirVolumeSource{Medium: "Memory", SizeLimit: proto.String("1Mi")}})
	vols, err := m.Setup(context.Background(), pod)
	must(t, err)
	dir := vols["mem"].Path
	if os.Geteuid() == 0 && !isTmpfs(dir) {
		t.Errorf("running as root, but %s is not a tmpfs", dir)
	}
	must(t, os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644))
	_, err = m.Setup(context.Background(), pod) // mounts no second tmpfs over the first
	must(t, err)
	if _, err := os.Stat(filepath.Join(dir, "f")); err != nil {
		t.Errorf("file lost on second Setup: %v", err)
	}
	must(t, m.Cleanup("uid-1"))
	if _, err := os.Stat(m.PodDir("uid-1")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pod dir still there after Cleanup: %v", err)
	}
}

// files lists a projected volume as the container sees it: visible name → content, and the
// mode of the file the name resolves to.
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if strings.HasPrefix(rel, "..") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if p == dir {
			return nil
		}
		fi, err := os.Stat(p) // follows the ..data links
		if err != nil {
			return err
		}
		if fi.IsDir() {
			real, err := filepath.EvalSymlinks(p)
			must(t, err)
			sub := files(t, real)
			for k, v := range sub {
				out[rel+"/"+k] = v
			}
			return filepath.SkipDir
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[rel] = fi.Mode().Perm().String() + " " + string(data)
		return nil
	})
	must(t, err)
	return out
}

func TestConfigMapAndSecret(t *testing.T) {
	objs := &objects{
		configMaps: map[string]*corev1.ConfigMap{"ns/cfg": {
			Metadata:   &metav1.ObjectMeta{Name: "cfg", Namespace: "ns"},
			Data:       map[string]string{"a": "alpha", "b": "beta"},
			BinaryData: map[string][]byte{"bin": {0, 1}},
		}},
		secrets: map[string]*corev1.Secret{"ns/s": {
			Metadata: &metav1.ObjectMeta{Name: "s", Namespace: "ns"},
			Data:     map[string][]byte{"user": []byte("admin"), "pass": []byte("pw")},
		}},
	}
	tests := []struct {
		name    string
		vol     *corev1.Volume
		want    map[string]string
		wantErr string
	}{
		{
			name: "every key of a configMap",
			vol:  &corev1.Volume{Name: "v", ConfigMap: &corev1.ConfigMapVolumeSource{Name: "cfg"}},
			want: map[string]string{"a": "-rw-r--r-- alpha", "b": "-rw-r--r-- beta", "bin": "-rw-r--r-- \x00\x01"},
		},
		{
			name: "items with paths and modes",
			vol: &corev1.Volume{Name: "v", ConfigMap: &corev1.ConfigMapVolumeSource{
				Name: "cfg", DefaultMode: proto.Int32(0o400),
				Items: []*corev1.KeyToPath{{Key: "a", Path: "dir/a.txt"}, {Key: "b", Path: "b.sh", Mode: proto.Int32(0o755)}},
			}},
			want: map[string]string{"dir/a.txt": "-r-------- alpha", "b.sh": "-rwxr-xr-x beta"},
		},
		{
			name:    "an item's key is missing",
			vol:     &corev1.Volume{Name: "v", ConfigMap: &corev1.ConfigMapVolumeSource{Name: "cfg", Items: []*corev1.KeyToPath{{Key: "zz", Path: "zz"}}}},
			wantErr: `MountVolume.SetUp failed for volume "v" : configmap "cfg": references non-existent config key: zz`,
		},
		{
			name: "an optional source's missing key is left out",
			vol: &corev1.Volume{Name: "v", ConfigMap: &corev1.ConfigMapVolumeSource{
				Name: "cfg", Optional: proto.Bool(true), Items: []*corev1.KeyToPath{{Key: "zz", Path: "zz"}, {Key: "a", Path: "a"}},
			}},
			want: map[string]string{"a": "-rw-r--r-- alpha"},
		},
		{
			name:    "a missing configMap",
			vol:     &corev1.Volume{Name: "v", ConfigMap: &corev1.ConfigMapVolumeSource{Name: "nope"}},
			wantErr: `MountVolume.SetUp failed for volume "v" : configmap "nope" not found`,
		},
		{
			name: "a missing optional configMap is an empty volume",
			vol:  &corev1.Volume{Name: "v", ConfigMap: &corev1.ConfigMapVolumeSource{Name: "nope", Optional: proto.Bool(true)}},
			want: map[string]string{},
		},
		{
			name: "a secret",
			vol:  &corev1.Volume{Name: "v", Secret: &corev1.SecretVolumeSource{SecretName: "s", DefaultMode: proto.Int32(0o440)}},
			want: map[string]string{"user": "-r--r----- admin", "pass": "-r--r----- pw"},
		},
		{
			name:    "a missing secret",
			vol:     &corev1.Volume{Name: "v", Secret: &corev1.SecretVolumeSource{SecretName: "nope"}},
			wantErr: `MountVolume.SetUp failed for volume "v" : secret "nope" not found`,
		},
		{
			name:    "an item path that leaves the volume",
			vol:     &corev1.Volume{Name: "v", Secret: &corev1.SecretVolumeSource{SecretName: "s", Items: []*corev1.KeyToPath{{Key: "user", Path: "../x"}}}},
			wantErr: `invalid file path "../x"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(t.TempDir(), objs, nil)
			vols, err := m.Setup(context.Background(), podWith(tt.vol))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			must(t, err)
			v := vols["v"]
			if !v.ReadOnly {
				t.Error("a projected volume is not read-only")
			}
			if got := files(t, v.Path); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("files = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProjectedUpdateIsAtomic(t *testing.T) {
	cm := &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Name: "cfg", Namespace: "ns"}, Data: map[string]string{"a": "1", "b": "2"}}
	objs := &objects{configMaps: map[string]*corev1.ConfigMap{"ns/cfg": cm}}
	m := New(t.TempDir(), objs, nil)
	pod := podWith(&corev1.Volume{Name: "v", ConfigMap: &corev1.ConfigMapVolumeSource{Name: "cfg"}})
	vols, err := m.Setup(context.Background(), pod)
	must(t, err)
	dir := vols["v"].Path
	first, err := os.Readlink(filepath.Join(dir, "..data"))
	must(t, err)
	if link, err := os.Readlink(filepath.Join(dir, "a")); err != nil || link != "..data/a" {
		t.Fatalf("a is %q (%v), want a symlink to ..data/a", link, err)
	}

	// Nothing changed: the data directory stays.
	_, err = m.Setup(context.Background(), pod)
	must(t, err)
	if again, _ := os.Readlink(filepath.Join(dir, "..data")); again != first {
		t.Errorf("..data moved from %s to %s without a change", first, again)
	}

	cm.Data = map[string]string{"a": "one", "c": "3"}
	_, err = m.Setup(context.Background(), pod)
	must(t, err)
	if got, want := files(t, dir), map[string]string{"a": "-rw-r--r-- one", "c": "-rw-r--r-- 3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after update files = %q, want %q", got, want)
	}
	second, _ := os.Readlink(filepath.Join(dir, "..data"))
	if second == first {
		t.Error("..data still points at the old directory")
	}
	entries, err := os.ReadDir(dir)
	must(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if want := []string{second, "..data", "a", "c"}; !reflect.DeepEqual(names, want) {
		t.Errorf("volume directory holds %v, want %v (old data directory and b removed)", names, want)
	}
}

func TestMounts(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	objs := &objects{configMaps: map[string]*corev1.ConfigMap{"ns/cfg": {Data: map[string]string{"app.conf": "x"}}}}
	m := New(root, objs, nil)
	host := t.TempDir()
	must(t, os.Symlink(outside, filepath.Join(host, "escape")))
	vols, err := m.Setup(context.Background(), podWith(
		&corev1.Volume{Name: "data", EmptyDir: &corev1.EmptyDirVolumeSource{}},
		&corev1.Volume{Name: "cfg", ConfigMap: &corev1.ConfigMapVolumeSource{Name: "cfg"}},
		&corev1.Volume{Name: "host", HostPath: &corev1.HostPathVolumeSource{Path: host, Type: proto.String("Directory")}},
	))
	must(t, err)
	data := vols["data"].Path
	cfgFile, err := filepath.EvalSymlinks(filepath.Join(vols["cfg"].Path, "app.conf"))
	must(t, err)
	expand := func(s string) string { return strings.ReplaceAll(s, "$(POD_NAME)", "p") }

	tests := []struct {
		name    string
		mounts  []*corev1.VolumeMount
		want    []runtime.Mount
		wantErr string
	}{
		{
			name: "whole volumes, read-only where asked and for configMaps",
			mounts: []*corev1.VolumeMount{
				{Name: "data", MountPath: "/data"},
				{Name: "data", MountPath: "/ro", ReadOnly: true},
				{Name: "cfg", MountPath: "/etc/app"},
			},
			want: []runtime.Mount{
				{HostPath: data, ContainerPath: "/data"},
				{HostPath: data, ContainerPath: "/ro", ReadOnly: true},
				{HostPath: vols["cfg"].Path, ContainerPath: "/etc/app", ReadOnly: true},
			},
		},
		{
			name:   "subPath is created in a writable volume",
			mounts: []*corev1.VolumeMount{{Name: "data", MountPath: "/logs", SubPath: "logs/app"}},
			want:   []runtime.Mount{{HostPath: filepath.Join(data, "logs", "app"), ContainerPath: "/logs"}},
		},
		{
			name:   "subPathExpr is expanded",
			mounts: []*corev1.VolumeMount{{Name: "data", MountPath: "/mine", SubPathExpr: "pods/$(POD_NAME)"}},
			want:   []runtime.Mount{{HostPath: filepath.Join(data, "pods", "p"), ContainerPath: "/mine"}},
		},
		{
			name:   "subPath to one configMap file resolves the ..data link",
			mounts: []*corev1.VolumeMount{{Name: "cfg", MountPath: "/etc/app.conf", SubPath: "app.conf"}},
			want:   []runtime.Mount{{HostPath: cfgFile, ContainerPath: "/etc/app.conf", ReadOnly: true}},
		},
		{
			name:    "a missing subPath of a read-only volume",
			mounts:  []*corev1.VolumeMount{{Name: "cfg", MountPath: "/x", SubPath: "nope"}},
			wantErr: `subPath "nope" does not exist in volume "cfg"`,
		},
		{
			name:    "subPath through a symlink out of the volume",
			mounts:  []*corev1.VolumeMount{{Name: "host", MountPath: "/x", SubPath: "escape"}},
			wantErr: `subPath "escape" resolves outside the volume`,
		},
		{
			name:    "subPath with ..",
			mounts:  []*corev1.VolumeMount{{Name: "data", MountPath: "/x", SubPath: "a/../../b"}},
			wantErr: "must not contain '..'",
		},
		{
			name:    "absolute subPath",
			mounts:  []*corev1.VolumeMount{{Name: "data", MountPath: "/x", SubPath: "/etc"}},
			wantErr: "must be a relative path",
		},
		{
			name:    "unknown volume",
			mounts:  []*corev1.VolumeMount{{Name: "nope", MountPath: "/x"}},
			wantErr: `volumeMount "nope": no volume of that name is ready`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Mounts(vols, &corev1.Container{Name: "c", VolumeMounts: tt.mounts}, expand)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			must(t, err)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("mounts = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestSetupReportsEveryFailedVolume(t *testing.T) {
	m := New(t.TempDir(), &objects{}, nil)
	vols, err := m.Setup(context.Background(), podWith(
		&corev1.Volume{Name: "ok", EmptyDir: &corev1.EmptyDirVolumeSource{}},
		&corev1.Volume{Name: "h", HostPath: &corev1.HostPathVolumeSource{Path: "/nonexistent/berth", Type: proto.String("Directory")}},
		&corev1.Volume{Name: "c", ConfigMap: &corev1.ConfigMapVolumeSource{Name: "missing"}},
	))
	if err == nil || !strings.Contains(err.Error(), `volume "h"`) || !strings.Contains(err.Error(), `volume "c"`) {
		t.Fatalf("err = %v, want failures of h and c", err)
	}
	if _, ok := vols["ok"]; !ok {
		t.Error("the good volume was not prepared")
	}
}

func FuzzSubPath(f *testing.F) {
	for _, s := range []string{"a", "a/b", "../x", "a/../../b", "/etc", "..data", "escape/x", "./a", "a//b", ""} {
		f.Add(s)
	}
	root := f.TempDir()
	outside := f.TempDir()
	vol := filepath.Join(root, "vol")
	if err := os.MkdirAll(vol, 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(vol, "escape")); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sub string) {
		if sub == "" || strings.ContainsRune(sub, 0) {
			return
		}
		p, err := subPath(Volume{Name: "v", Path: vol}, sub)
		if err == nil && p != vol && !strings.HasPrefix(p, vol+string(filepath.Separator)) {
			t.Fatalf("subPath(%q) = %q, outside the volume %q", sub, p, vol)
		}
		if entries, _ := os.ReadDir(outside); len(entries) > 0 {
			t.Fatalf("subPath(%q) created %s outside the volume", sub, entries[0].Name())
		}
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
