package e2eutil

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Images are the images `make images` builds, which e2e tests run.
var Images = []string{"berth:latest", "berth-pause:latest", "berth-testapp:latest", "berth-shell:latest"}

// InCI reports whether the tests run under CI: the CI environment variable is set to anything
// but "", "0" or "false".
func InCI() bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv("CI"))) {
	case "", "0", "false":
		return false
	}
	return true
}

// Unavailable ends the test because a prerequisite is missing: it skips with the message, or
// fails with it under CI.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("%s (CI is set, so this fails instead of skipping)", msg)
	}
	t.Skip(msg)
}

// RepoRoot is the root of the Berth checkout the tests run in: the nearest directory above
// the working directory holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find the repository root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// BinDir is where the binaries under test are: $BERTH_BIN_DIR, or bin/ of the repository.
func BinDir(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("BERTH_BIN_DIR"); dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			t.Fatalf("BERTH_BIN_DIR: %v", err)
		}
		return abs
	}
	return filepath.Join(RepoRoot(t), "bin")
}

// Binary is the absolute path of the binary name (berth, berthctl, berth-pause, ...) in
// BinDir; when it is missing the test is Unavailable.
func Binary(t testing.TB, name string) string {
	t.Helper()
	path := filepath.Join(BinDir(t), name)
	if fi, err := os.Stat(path); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		Unavailable(t, "%s is not built: run 'make build' (or 'make e2e')", path)
	}
	return path
}

var docker struct {
	once sync.Once
	err  error
}

// RequireDocker makes the test Unavailable unless the docker CLI is installed and its Docker
// Engine answers.
func RequireDocker(t testing.TB) {
	t.Helper()
	docker.once.Do(func() { docker.err = dockerReachable() })
	if docker.err != nil {
		Unavailable(t, "no Docker Engine: %v", docker.err)
	}
}

func dockerReachable() error {
	if _, err := exec.LookPath("docker"); err != nil {
		return fmt.Errorf("the docker CLI is not installed: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker version: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// RequireImages makes the test Unavailable unless Docker is reachable and has every image
// named (all of Images when none is named).
func RequireImages(t testing.TB, images ...string) {
	t.Helper()
	RequireDocker(t)
	if len(images) == 0 {
		images = Images
	}
	for _, img := range images {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Id}}", img).Run()
		cancel()
		if err != nil {
			Unavailable(t, "image %s is missing: run 'make images' (or 'make e2e')", img)
		}
	}
}

// FreeAddr returns a 127.0.0.1:port address that was free a moment ago. Another process can
// take it before the caller binds it; StartServer retries when that happens.
func FreeAddr(t testing.TB) string {
	t.Helper()
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	return addr, nil
}
