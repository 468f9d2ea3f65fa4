//go:build !linux

package volume

import "errors"

func isTmpfs(string) bool { return false }

func mountTmpfs(string, string) error { return errors.New("tmpfs needs Linux") }

func unmountTmpfs(string) error { return nil }
