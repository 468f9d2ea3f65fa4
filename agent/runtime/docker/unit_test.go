package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"

	"github.com/berth-dev/berth/agent/runtime"
)

func TestContainerConfig(t *testing.T) {
	r := &Runtime{opts: Options{NodeName: "node-1"}}
	pod := runtime.PodRef{UID: "u1", Namespace: "ns", Name: "web"}
	base := runtime.ContainerConfig{Pod: pod, Name: "app", Attempt: 3, Image: "img:1"}
	for _, tc := range []struct {
		name     string
		cfg      func(*runtime.ContainerConfig)
		sharePID bool
		check    func(t *testing.T, c *container.Config, h *container.HostConfig)
	}{
		{name: "image defaults", check: func(t *testing.T, c *container.Config, h *container.HostConfig) {
			if c.Entrypoint != nil || c.Cmd != nil {
				t.Errorf("entrypoint %v cmd %v, want the image's", c.Entrypoint, c.Cmd)
			}
		}},
		{name: "command replaces the entrypoint and drops CMD", cfg: func(c *runtime.ContainerConfig) { c.Command = []string{"/bin/app", "-v"} },
			check: func(t *testing.T, c *container.Config, h *container.HostConfig) {
				if !reflect.DeepEqual([]string(c.Entrypoint), []string{"/bin/app", "-v"}) || c.Cmd != nil {
					t.Errorf("entrypoint %v cmd %v", c.Entrypoint, c.Cmd)
				}
			}},
		{name: "args replace CMD", cfg: func(c *runtime.ContainerConfig) { c.Args = []string{"--port", "80"} },
			check: func(t *testing.T, c *container.Config, h *container.HostConfig) {
				if c.Entrypoint != nil || !reflect.DeepEqual([]string(c.Cmd), []string{"--port", "80"}) {
					t.Errorf("entrypoint %v cmd %v", c.Entrypoint, c.Cmd)
				}
			}},
		{name: "command and args", cfg: func(c *runtime.ContainerConfig) { c.Command, c.Args = []string{"sh", "-c"}, []string{"echo hi"} },
			check: func(t *testing.T, c *container.Config, h *container.HostConfig) {
				if !reflect.DeepEqual([]string(c.Entrypoint), []string{"sh", "-c"}) || !reflect.DeepEqual([]string(c.Cmd), []string{"echo hi"}) {
					t.Errorf("entrypoint %v cmd %v", c.Entrypoint, c.Cmd)
				}
			}},
		{name: "namespaces without PID sharing", check: func(t *testing.T, c *container.Config, h *container.HostConfig) {
			if h.NetworkMode != "container:sb" || h.IpcMode != "container:sb" || h.PidMode != "" || h.RestartPolicy.Name != "no" {
				t.Errorf("network %q ipc %q pid %q restart %q", h.NetworkMode, h.IpcMode, h.PidMode, h.RestartPolicy.Name)
			}
		}},
		{name: "PID sharing", sharePID: true, check: func(t *testing.T, c *container.Config, h *container.HostConfig) {
			if h.PidMode != "container:sb" {
				t.Errorf("pid mode %q", h.PidMode)
			}
		}},
		{name: "no resources: besteffort shares", check: func(t *testing.T, c *container.Config, h *container.HostConfig) {
			if h.CPUShares != 2 || h.CPUQuota != 0 || h.CPUPeriod != 0 || h.Memory != 0 || h.MemorySwap != 0 || h.NanoCPUs != 0 {
				t.Errorf("resources %+v", h.Resources)
			}
		}},
		{name: "limits and requests", cfg: func(c *runtime.ContainerConfig) {
			c.Resources = runtime.Resources{CPUMillis: 1500, CPURequestMillis: 100, MemoryBytes: 128 << 20}
		}, check: func(t *testing.T, c *container.Config, h *container.HostConfig) {
			if h.CPUQuota != 150_000 || h.CPUPeriod != 100_000 || h.CPUShares != 102 || h.Memory != 128<<20 || h.MemorySwap != 128<<20 {
				t.Errorf("resources %+v", h.Resources)
			}
		}},
		{name: "a tiny CPU limit gets the smallest quota", cfg: func(c *runtime.ContainerConfig) { c.Resources.CPUMillis = 1 },
			check: func(t *testing.T, c *container.Config, h *container.HostConfig) {
				if h.CPUQuota != 1000 {
					t.Errorf("quota %d, want 1000", h.CPUQuota)
				}
			}},
		{name: "security and terminal", cfg: func(c *runtime.ContainerConfig) {
			c.User, c.Privileged, c.ReadOnlyRootfs = "1000:1000", true, true
			c.CapAdd, c.CapDrop = []string{"NET_ADMIN"}, []string{"ALL"}
			c.Stdin, c.StdinOnce, c.TTY, c.StopSignal = true, true, true, "SIGQUIT"
			c.Env, c.WorkingDir = []string{"A=1"}, "/w"
		}, check: func(t *testing.T, c *container.Config, h *container.HostConfig) {
			if c.User != "1000:1000" || !h.Privileged || !h.ReadonlyRootfs || !reflect.DeepEqual([]string(h.CapAdd), []string{"NET_ADMIN"}) ||
				!reflect.DeepEqual([]string(h.CapDrop), []string{"ALL"}) || !c.OpenStdin || !c.StdinOnce || !c.Tty ||
				c.StopSignal != "SIGQUIT" || !reflect.DeepEqual(c.Env, []string{"A=1"}) || c.WorkingDir != "/w" {
				t.Errorf("config %+v host config %+v", c, h)
			}
		}},
		{name: "mounts", cfg: func(c *runtime.ContainerConfig) {
			c.Mounts = []runtime.Mount{{HostPath: "/h/a:b", ContainerPath: "/a"}, {HostPath: "/h/c", ContainerPath: "/c", ReadOnly: true}}
		}, check: func(t *testing.T, c *container.Config, h *container.HostConfig) {
			want := []mount.Mount{{Type: mount.TypeBind, Source: "/h/a:b", Target: "/a"}, {Type: mount.TypeBind, Source: "/h/c", Target: "/c", ReadOnly: true}}
			if !reflect.DeepEqual(h.Mounts, want) || h.Binds != nil {
				t.Errorf("mounts %+v", h.Mounts)
			}
		}},
		{name: "labels", cfg: func(c *runtime.ContainerConfig) {
			c.Labels = map[string]string{runtime.LabelSpecHash: "h1", "extra": "x", runtime.LabelNode: "spoofed"}
		}, check: func(t *testing.T, c *container.Config, h *container.HostConfig) {
			want := map[string]string{
				runtime.LabelManaged: "true", runtime.LabelPodUID: "u1", runtime.LabelPodNamespace: "ns", runtime.LabelPodName: "web",
				runtime.LabelContainerName: "app", runtime.LabelNode: "node-1", runtime.LabelAttempt: "3",
				runtime.LabelSpecHash: "h1", LabelSandboxID: "sb", "extra": "x",
			}
			if !reflect.DeepEqual(c.Labels, want) {
				t.Errorf("labels %v, want %v", c.Labels, want)
			}
		}},
		{name: "a spec hash of its own when the caller gives none", check: func(t *testing.T, c *container.Config, h *container.HostConfig) {
			if c.Labels[runtime.LabelSpecHash] == "" {
				t.Error("no spec hash")
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			c, h := r.containerConfig("sb", tc.sharePID, cfg)
			if c.Image != "img:1" {
				t.Errorf("image %q", c.Image)
			}
			tc.check(t, c, h)
		})
	}
}

func TestSpecHash(t *testing.T) {
	a := runtime.ContainerConfig{Name: "app", Image: "img:1", Attempt: 1, Labels: map[string]string{"x": "1"}}
	b := a
	b.Attempt, b.Labels = 7, nil
	if specHash(a) != specHash(b) {
		t.Error("the hash depends on the attempt or labels")
	}
	b.Image = "img:2"
	if specHash(a) == specHash(b) {
		t.Error("the hash ignores the image")
	}
}

func TestSandboxConfig(t *testing.T) {
	r := &Runtime{opts: Options{NodeName: "n", PauseImage: "pause:1"}}
	c, h := r.sandboxConfig(runtime.SandboxConfig{
		Pod: runtime.PodRef{UID: "u", Namespace: "ns", Name: "p"}, Hostname: "p-host", ShareProcessNamespace: true,
		DNS:         &runtime.DNSConfig{Nameservers: []string{"10.96.0.10"}, Searches: []string{"ns.svc.cluster.local"}, Options: []string{"ndots:5"}},
		HostAliases: []runtime.HostAlias{{IP: "10.0.0.1", Hostnames: []string{"a", "b"}}, {IP: "fd00::1", Hostnames: []string{"c"}}},
		Labels:      map[string]string{"extra": "x"},
	})
	if c.Image != "pause:1" || c.Hostname != "p-host" || c.Labels[LabelSharePID] != "true" || c.Labels["extra"] != "x" ||
		c.Labels[runtime.LabelContainerName] != runtime.SandboxContainerName || c.Labels[runtime.LabelNode] != "n" {
		t.Errorf("config %+v", c)
	}
	if h.IpcMode != container.IPCModeShareable || !reflect.DeepEqual(h.DNS, []string{"10.96.0.10"}) ||
		!reflect.DeepEqual(h.DNSSearch, []string{"ns.svc.cluster.local"}) || !reflect.DeepEqual(h.DNSOptions, []string{"ndots:5"}) ||
		!reflect.DeepEqual(h.ExtraHosts, []string{"a:10.0.0.1", "b:10.0.0.1", "c:fd00::1"}) {
		t.Errorf("host config %+v", h)
	}
	if _, h := r.sandboxConfig(runtime.SandboxConfig{}); h.DNS != nil || h.DNSSearch != nil || h.ExtraHosts != nil {
		t.Errorf("no DNS config: %+v, want Docker's defaults", h)
	}
}

func TestFreeSubnet(t *testing.T) {
	p := netip.MustParsePrefix
	for _, tc := range []struct {
		name string
		used []netip.Prefix
		want string
	}{
		{"nothing used", nil, "10.244.0.0/16"},
		{"docker's defaults", []netip.Prefix{p("172.17.0.0/16"), p("172.18.0.0/16")}, "10.244.0.0/16"},
		{"first taken", []netip.Prefix{p("10.244.0.0/16")}, "10.245.0.0/16"},
		{"a wider network covers several", []netip.Prefix{p("10.240.0.0/12")}, "172.20.0.0/16"},
		{"a narrow one inside", []netip.Prefix{p("10.244.3.0/24"), p("10.245.0.0/16")}, "10.246.0.0/16"},
		{"all of 10/8", []netip.Prefix{p("10.0.0.0/8"), p("172.20.0.0/15")}, "172.22.0.0/16"},
		{"everything", []netip.Prefix{p("0.0.0.0/0")}, ""},
	} {
		got, err := freeSubnet(tc.used)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%s: freeSubnet = %s, want an error", tc.name, got)
			}
			continue
		}
		if err != nil || got.String() != tc.want {
			t.Errorf("%s: freeSubnet = %s, %v; want %s", tc.name, got, err, tc.want)
		}
	}
	nets := []network.Summary{{IPAM: network.IPAM{Config: []network.IPAMConfig{{Subnet: "10.244.0.0/16"}, {Subnet: "fd00::/64"}, {Subnet: "bad"}}}}}
	if got := usedPrefixes(nets); len(got) != 2 {
		t.Errorf("usedPrefixes = %v", got)
	}
}

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"not found", cerrdefs.ErrNotFound, runtime.ErrNotFound},
		{"connection refused", &url.Error{Op: "Get", URL: "http://x", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}, runtime.ErrUnavailable},
		{"unexpected EOF", fmt.Errorf("reading: %w", io.ErrUnexpectedEOF), runtime.ErrUnavailable},
		{"error during connect", errors.New("error during connect: Get x: EOF"), runtime.ErrUnavailable},
		{"canceled", context.Canceled, context.Canceled},
		{"conflict", cerrdefs.ErrConflict, cerrdefs.ErrConflict},
	} {
		err := wrap(tc.err, "doing %s", "it")
		if !errors.Is(err, tc.want) || !strings.HasPrefix(err.Error(), "doing it: ") {
			t.Errorf("%s: wrap = %v, want it to wrap %v", tc.name, err, tc.want)
		}
		for _, other := range []error{runtime.ErrNotFound, runtime.ErrUnavailable} {
			if other != tc.want && errors.Is(err, other) {
				t.Errorf("%s: wrap = %v also wraps %v", tc.name, err, other)
			}
		}
	}
	if wrap(nil, "x") != nil {
		t.Error("wrap(nil) is not nil")
	}
}

func TestGoArch(t *testing.T) {
	for in, want := range map[string]string{"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "s390x": "s390x"} {
		if got := goArch(in); got != want {
			t.Errorf("goArch(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestUnreachableDaemon: every call to a daemon that cannot be reached wraps ErrUnavailable,
// quickly.
func TestUnreachableDaemon(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "tcp://" + l.Addr().String()
	l.Close()
	for _, host := range []string{"unix://" + filepath.Join(t.TempDir(), "no-docker.sock"), refused} {
		r, err := New(Options{NodeName: "n", Host: host, StateDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		calls := map[string]error{}
		_, calls["Info"] = r.Info(ctx)
		_, calls["EnsureImage"] = r.EnsureImage(ctx, "img:1", "IfNotPresent")
		_, calls["EnsureImage Always"] = r.EnsureImage(ctx, "img:1", "Always")
		_, calls["RunSandbox"] = r.RunSandbox(ctx, runtime.SandboxConfig{Pod: runtime.PodRef{UID: "u"}})
		_, calls["ListSandboxes"] = r.ListSandboxes(ctx)
		_, calls["ListContainers"] = r.ListContainers(ctx)
		_, calls["CreateContainer"] = r.CreateContainer(ctx, "sb", runtime.ContainerConfig{Name: "c"})
		calls["StartContainer"] = r.StartContainer(ctx, "c")
		calls["StopContainer"] = r.StopContainer(ctx, "c", time.Second)
		calls["RemoveContainer"] = r.RemoveContainer(ctx, "c")
		calls["StopSandbox"] = r.StopSandbox(ctx, "sb", time.Second)
		calls["RemoveSandbox"] = r.RemoveSandbox(ctx, "sb")
		_, calls["ContainerStatus"] = r.ContainerStatus(ctx, "c")
		_, _, _, calls["ExecSync"] = r.ExecSync(ctx, "c", []string{"true"}, time.Second)
		_, calls["Exec"] = r.Exec(ctx, "c", runtime.ExecOptions{Cmd: []string{"true"}})
		calls["Logs"] = r.Logs(ctx, "c", runtime.LogOptions{}, io.Discard, io.Discard)
		for name, err := range calls {
			if !errors.Is(err, runtime.ErrUnavailable) {
				t.Errorf("%s: %s = %v, want ErrUnavailable", host, name, err)
			}
		}
		if ctx.Err() != nil {
			t.Errorf("%s: the calls took longer than 30s", host)
		}
		cancel()
		r.Close()
	}
}

func TestNewOptions(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("New without a node name succeeded")
	}
	if _, err := New(Options{NodeName: "n", Subnet: "10.0.0.0/33"}); err == nil {
		t.Error("New with a bad subnet succeeded")
	}
	r, err := New(Options{NodeName: "n"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.opts.Network != DefaultNetwork || r.opts.PauseImage != DefaultPauseImage || r.opts.PullTimeout != DefaultPullTimeout {
		t.Errorf("defaults: %+v", r.opts)
	}
}
