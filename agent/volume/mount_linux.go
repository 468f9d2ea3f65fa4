package volume

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"k8s.io/apimachinery/pkg/api/resource"
)

const tmpfsMagic = 0x01021994

// isTmpfs reports whether dir is a tmpfs mount point of its own.
func isTmpfs(dir string) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil || st.Type != tmpfsMagic {
		return false
	}
	var self, parent syscall.Stat_t
	if syscall.Stat(dir, &self) != nil || syscall.Stat(filepath.Dir(dir), &parent) != nil {
		return false
	}
	return self.Dev != parent.Dev
}

// mountTmpfs mounts a tmpfs of at most sizeLimit (a quantity; empty: the kernel's default) on
// dir, unless one is there already.
func mountTmpfs(dir, sizeLimit string) error {
	if isTmpfs(dir) {
		return nil
	}
	opts := "mode=0777"
	if sizeLimit != "" {
		q, err := resource.ParseQuantity(sizeLimit)
		if err != nil {
			return fmt.Errorf("sizeLimit %q: %w", sizeLimit, err)
		}
		opts += fmt.Sprintf(",size=%d", q.Value())
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", dir, err)
	}
	return nil
}

// unmountTmpfs unmounts the tmpfs on dir, if there is one.
func unmountTmpfs(dir string) error {
	if !isTmpfs(dir) {
		return nil
	}
	if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
