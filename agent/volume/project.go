package volume

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// DefaultMode is the mode of projected files when neither the item nor the volume sets one.
const DefaultMode = 0o644

// file is one projected file: its content and mode.
type file struct {
	data []byte
	mode fs.FileMode
}

// configMapFiles selects the files a configMap volume projects.
func (m *Manager) configMapFiles(ctx context.Context, ns string, src *corev1.ConfigMapVolumeSource) (map[string]file, error) {
	if m.lookup == nil {
		return nil, errors.New("no ConfigMap lookup configured")
	}
	cm, err := m.lookup.ConfigMap(ctx, ns, src.GetName())
	if err != nil {
		if isNotFound(err) {
			if src.GetOptional() {
				return map[string]file{}, nil
			}
			return nil, fmt.Errorf("configmap %q not found", src.GetName())
		}
		return nil, fmt.Errorf("get configmap %q: %w", src.GetName(), err)
	}
	data := make(map[string][]byte, len(cm.GetData())+len(cm.GetBinaryData()))
	for k, v := range cm.GetData() {
		data[k] = []byte(v)
	}
	for k, v := range cm.GetBinaryData() {
		data[k] = v
	}
	files, err := project(data, src.GetItems(), src.DefaultMode, src.GetOptional())
	if err != nil {
		return nil, fmt.Errorf("configmap %q: %w", src.GetName(), err)
	}
	return files, nil
}

// secretFiles selects the files a secret volume projects.
func (m *Manager) secretFiles(ctx context.Context, ns string, src *corev1.SecretVolumeSource) (map[string]file, error) {
	if m.lookup == nil {
		return nil, errors.New("no Secret lookup configured")
	}
	s, err := m.lookup.Secret(ctx, ns, src.GetSecretName())
	if err != nil {
		if isNotFound(err) {
			if src.GetOptional() {
				return map[string]file{}, nil
			}
			return nil, fmt.Errorf("secret %q not found", src.GetSecretName())
		}
		return nil, fmt.Errorf("get secret %q: %w", src.GetSecretName(), err)
	}
	data := make(map[string][]byte, len(s.GetData())+len(s.GetStringData()))
	for k, v := range s.GetData() {
		data[k] = v
	}
	for k, v := range s.GetStringData() { // the apiserver folds stringData into data; just in case
		data[k] = []byte(v)
	}
	files, err := project(data, src.GetItems(), src.DefaultMode, src.GetOptional())
	if err != nil {
		return nil, fmt.Errorf("secret %q: %w", src.GetSecretName(), err)
	}
	return files, nil
}

// project maps keys to files: every key under its own name, or only the items, each under its
// path. A missing item key is an error unless the source is optional.
func project(data map[string][]byte, items []*corev1.KeyToPath, defaultMode *int32, optional bool) (map[string]file, error) {
	mode := fs.FileMode(DefaultMode)
	if defaultMode != nil {
		mode = fs.FileMode(*defaultMode) & fs.ModePerm
	}
	files := map[string]file{}
	if len(items) == 0 {
		for k, v := range data {
			if err := checkFilePath(k); err != nil {
				return nil, err
			}
			files[k] = file{data: v, mode: mode}
		}
		return files, nil
	}
	for _, it := range items {
		v, ok := data[it.GetKey()]
		if !ok {
			if optional {
				continue
			}
			return nil, fmt.Errorf("references non-existent config key: %s", it.GetKey())
		}
		if err := checkFilePath(it.GetPath()); err != nil {
			return nil, err
		}
		m := mode
		if it.Mode != nil {
			m = fs.FileMode(*it.Mode) & fs.ModePerm
		}
		files[path.Clean(it.GetPath())] = file{data: v, mode: m}
	}
	return files, nil
}

// checkFilePath refuses a projected path that is absolute, leaves the volume or would clash
// with the volume's own "..data" entries.
func checkFilePath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") {
		return fmt.Errorf("invalid file path %q", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." || strings.HasPrefix(part, "..") {
			return fmt.Errorf("invalid file path %q: must not contain '..'", p)
		}
	}
	return nil
}

const dataDirName = "..data"

// writeAtomic makes dir hold exactly files, switching from the previous content in one
// rename of the "..data" symlink. It reports whether anything changed.
func writeAtomic(dir string, files map[string]file) (bool, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("create volume directory: %w", err)
	}
	oldTS, _ := os.Readlink(filepath.Join(dir, dataDirName))
	if oldTS != "" {
		same, err := sameContent(filepath.Join(dir, oldTS), files)
		if err != nil {
			return false, err
		}
		if same {
			return false, ensureVisible(dir, files)
		}
	}
	tsDir, err := os.MkdirTemp(dir, time.Now().UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return false, fmt.Errorf("create data directory: %w", err)
	}
	if err := os.Chmod(tsDir, 0o755); err != nil {
		return false, fmt.Errorf("chmod data directory: %w", err)
	}
	for p, f := range files {
		full := filepath.Join(tsDir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return false, fmt.Errorf("write %s: %w", p, err)
		}
		if err := os.WriteFile(full, f.data, f.mode); err != nil {
			return false, fmt.Errorf("write %s: %w", p, err)
		}
		if err := os.Chmod(full, f.mode); err != nil { // WriteFile's mode passes the umask
			return false, fmt.Errorf("chmod %s: %w", p, err)
		}
	}
	tmpLink := filepath.Join(dir, "..data_tmp")
	_ = os.Remove(tmpLink)
	if err := os.Symlink(filepath.Base(tsDir), tmpLink); err != nil {
		return false, fmt.Errorf("link data directory: %w", err)
	}
	if err := os.Rename(tmpLink, filepath.Join(dir, dataDirName)); err != nil {
		return false, fmt.Errorf("switch data directory: %w", err)
	}
	if err := ensureVisible(dir, files); err != nil {
		return true, err
	}
	if oldTS != "" && oldTS != filepath.Base(tsDir) {
		if err := os.RemoveAll(filepath.Join(dir, oldTS)); err != nil {
			return true, fmt.Errorf("remove old data directory: %w", err)
		}
	}
	return true, nil
}

// ensureVisible makes each top-level name of files a symlink into ..data and removes the
// symlinks of names no longer there.
func ensureVisible(dir string, files map[string]file) error {
	want := map[string]bool{}
	for p := range files {
		want[strings.SplitN(p, "/", 2)[0]] = true
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read volume directory: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, "..") || want[name] {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("remove %s: %w", name, err)
		}
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		link := filepath.Join(dir, n)
		target := path.Join(dataDirName, n)
		if cur, err := os.Readlink(link); err == nil && cur == target {
			continue
		}
		_ = os.RemoveAll(link)
		if err := os.Symlink(target, link); err != nil {
			return fmt.Errorf("link %s: %w", n, err)
		}
	}
	return nil
}

// sameContent reports whether dir holds exactly files, with the same modes.
func sameContent(dir string, files map[string]file) (bool, error) {
	seen := 0
	same := true
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		f, ok := files[filepath.ToSlash(rel)]
		if !ok {
			same = false
			return filepath.SkipAll
		}
		seen++
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm() != f.mode {
			same = false
			return filepath.SkipAll
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Equal(data, f.data) {
			same = false
			return filepath.SkipAll
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read volume data: %w", err)
	}
	return same && seen == len(files), nil
}
