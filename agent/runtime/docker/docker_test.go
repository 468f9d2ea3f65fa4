package docker

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"

	"github.com/berth-dev/berth/agent/runtime"
	"github.com/berth-dev/berth/agent/runtime/runtimetest"
)

func TestConformance(t *testing.T) {
	requireDocker(t)
	runtimetest.Run(t, runtimetest.Config{
		New: func(t *testing.T, node string) runtime.Runtime {
			return newRuntime(t, node, func(o *Options) { o.NodeName = node })
		},
		Image:        shellImage,
		MissingImage: "registry.invalid/berth/missing:1",
		Program:      shellProgram,
		Timeout:      time.Minute,
	})
}

// TestPodSharing: two containers of a Pod share its IP, hostname, network, IPC and UTS
// namespaces, resolv.conf and hosts, and an emptyDir; they reach each other on localhost.
func TestPodSharing(t *testing.T) {
	r := newRuntime(t, "sharing")
	ctx := testCtx(t)
	sb := run(t, r, runtime.SandboxConfig{
		Hostname:    "shared-pod",
		DNS:         &runtime.DNSConfig{Nameservers: []string{"10.96.0.10"}, Searches: []string{"rtest.svc.cluster.local", "svc.cluster.local"}, Options: []string{"ndots:5"}},
		HostAliases: []runtime.HostAlias{{IP: "10.1.2.3", Hostnames: []string{"foo.local", "bar.local"}}},
	})
	if _, err := netip.ParseAddr(sb.IP); err != nil {
		t.Fatalf("sandbox IP %q: %v", sb.IP, err)
	}
	emptyDir := t.TempDir()
	mounts := []runtime.Mount{{HostPath: emptyDir, ContainerPath: "/data"}}
	start(t, r, sb, runtime.ContainerConfig{Name: "web", Image: testappImage, Env: []string{"PORT=8080"}, Mounts: mounts})
	shell := start(t, r, sb, runtime.ContainerConfig{Name: "shell", Command: sleeper, Mounts: mounts})

	// The shell reaches the web server on localhost, which sees the Pod's IP and hostname.
	var body string
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _, code, err := r.ExecSync(ctx, shell, []string{"wget", "-q", "-O", "-", "http://localhost:8080/"}, 10*time.Second)
		if err == nil && code == 0 {
			body = string(out)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("wget localhost:8080 from the other container: %d, %v", code, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(body, sb.IP) || !strings.Contains(body, "shared-pod") {
		t.Errorf("testapp answered %s; want the Pod IP %s and hostname shared-pod", body, sb.IP)
	}

	if got := exec(t, r, shell, "hostname"); got != "shared-pod\n" {
		t.Errorf("hostname in the container = %q", got)
	}
	if got := exec(t, r, shell, "sh", "-c", "ip -4 -o addr show eth0"); !strings.Contains(got, " "+sb.IP+"/") {
		t.Errorf("eth0 of the container: %q, want %s", got, sb.IP)
	}
	resolv := exec(t, r, shell, "cat", "/etc/resolv.conf")
	for _, want := range []string{"search rtest.svc.cluster.local svc.cluster.local", "options ndots:5"} {
		if !strings.Contains(resolv, want) {
			t.Errorf("resolv.conf %q lacks %q", resolv, want)
		}
	}
	// On a user-defined network, resolv.conf names Docker's embedded DNS server, which
	// forwards to the Pod's nameservers.
	if pause, err := r.cli.ContainerInspect(ctx, sb.ID); err != nil || strings.Join(pause.HostConfig.DNS, " ") != "10.96.0.10" {
		t.Errorf("sandbox's DNS servers: %v, %v; want 10.96.0.10", pause.HostConfig, err)
	}
	hosts := exec(t, r, shell, "cat", "/etc/hosts")
	for _, want := range []string{"10.1.2.3\tfoo.local", "10.1.2.3\tbar.local", sb.IP} {
		if !strings.Contains(hosts, want) {
			t.Errorf("/etc/hosts %q lacks %q", hosts, want)
		}
	}

	// The same network and IPC namespaces (Docker gives each container a UTS namespace of
	// its own with the sandbox's hostname; PID is not shared here), and the emptyDir.
	ns := func(id string) string {
		return exec(t, r, id, "sh", "-c", "for n in net ipc; do readlink /proc/self/ns/$n; done; hostname")
	}
	sbNS := ns(shell)
	pidOf := func(id string) string { return exec(t, r, id, "readlink", "/proc/self/ns/pid") }
	exec(t, r, shell, "sh", "-c", "echo from-shell > /data/note")
	if got := mustRead(t, emptyDir+"/note"); got != "from-shell\n" {
		t.Errorf("emptyDir on the host has %q", got)
	}
	other := start(t, r, sb, runtime.ContainerConfig{Name: "other", Command: sleeper, Mounts: mounts})
	if got := exec(t, r, other, "cat", "/data/note"); got != "from-shell\n" {
		t.Errorf("emptyDir in the other container has %q", got)
	}
	if got := ns(other); got != sbNS {
		t.Errorf("namespaces differ: %q and %q", got, sbNS)
	}
	if pidOf(other) == pidOf(shell) {
		t.Error("containers share a PID namespace without shareProcessNamespace")
	}
	if got := exec(t, r, other, "cat", "/proc/1/cmdline"); !strings.HasPrefix(got, "sh") {
		t.Errorf("PID 1 of a container is %q, want its own command", got)
	}
}

// TestSharedPIDNamespace: with shareProcessNamespace the pause container is PID 1 of every
// container, which see each other's processes.
func TestSharedPIDNamespace(t *testing.T) {
	r := newRuntime(t, "pid")
	sb := run(t, r, runtime.SandboxConfig{ShareProcessNamespace: true})
	a := start(t, r, sb, runtime.ContainerConfig{Name: "a", Command: []string{"sleep", "3601"}})
	b := start(t, r, sb, runtime.ContainerConfig{Name: "b", Command: sleeper})
	if got := exec(t, r, b, "cat", "/proc/1/cmdline"); !strings.HasPrefix(got, "/pause") {
		t.Errorf("PID 1 = %q, want /pause", got)
	}
	if got := exec(t, r, b, "ps", "-o", "args"); !strings.Contains(got, "sleep 3601") {
		t.Errorf("ps in b = %q, want a's sleep 3601", got)
	}
	if exec(t, r, a, "readlink", "/proc/self/ns/pid") != exec(t, r, b, "readlink", "/proc/self/ns/pid") {
		t.Error("containers do not share the PID namespace")
	}
}

// TestStop: a graceful stop delivers the stop signal; an app that ignores it is killed when
// the grace period ends.
func TestStop(t *testing.T) {
	r := newRuntime(t, "stop")
	ctx := testCtx(t)
	sb := run(t, r, runtime.SandboxConfig{})
	for _, tc := range []struct {
		name       string
		cfg        runtime.ContainerConfig
		grace      time.Duration
		minTime    time.Duration
		code       int
		reason     string
		wantStdout string
	}{
		{"SIGTERM", runtime.ContainerConfig{Name: "term", Image: testappImage}, 10 * time.Second, 0, 0, "Completed", "received SIGTERM"},
		{"stop signal", runtime.ContainerConfig{Name: "int", Image: testappImage, StopSignal: "SIGINT"}, 10 * time.Second, 0, 0, "Completed", "received SIGINT"},
		{"ignored", runtime.ContainerConfig{Name: "stubborn", Command: []string{"sh", "-c", `trap "" TERM; echo up; while :; do sleep 1; done`}},
			2 * time.Second, 2 * time.Second, 137, "Error", "up"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := start(t, r, sb, tc.cfg)
			deadline := time.Now().Add(20 * time.Second)
			for { // wait until the app is up (and has installed its handler)
				out, _ := logs(t, r, id)
				if out != "" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the app logged nothing")
				}
				time.Sleep(50 * time.Millisecond)
			}
			begin := time.Now()
			if err := r.StopContainer(ctx, id, tc.grace); err != nil {
				t.Fatalf("StopContainer: %v", err)
			}
			took := time.Since(begin)
			if took < tc.minTime || took > tc.grace+5*time.Second {
				t.Errorf("stop took %s, want between %s and the grace period %s", took, tc.minTime, tc.grace)
			}
			st := waitExited(t, r, id, 10*time.Second)
			if st.ExitCode != tc.code || st.Reason != tc.reason {
				t.Errorf("stopped container: exit %d %s, want %d %s", st.ExitCode, st.Reason, tc.code, tc.reason)
			}
			if out, _ := logs(t, r, id); !strings.Contains(out, tc.wantStdout) {
				t.Errorf("logs %q lack %q", out, tc.wantStdout)
			}
		})
	}
}

// TestOOMKilled: a container over its memory limit ends OOMKilled.
func TestOOMKilled(t *testing.T) {
	r := newRuntime(t, "oom")
	sb := run(t, r, runtime.SandboxConfig{})
	id := start(t, r, sb, runtime.ContainerConfig{
		Name: "hog", Command: []string{"tail", "/dev/zero"}, // tail keeps the "line" it never finds
		Resources: runtime.Resources{MemoryBytes: 8 << 20},
	})
	st := waitExited(t, r, id, time.Minute)
	if st.Reason != "OOMKilled" || st.ExitCode != 137 {
		t.Errorf("memory hog: exit %d, reason %q; want 137 OOMKilled", st.ExitCode, st.Reason)
	}
}

// TestStartError: a command that does not exist leaves the container Created with Docker's
// exit code and message.
func TestStartError(t *testing.T) {
	r := newRuntime(t, "starterr")
	ctx := testCtx(t)
	sb := run(t, r, runtime.SandboxConfig{})
	id, err := r.CreateContainer(ctx, sb.ID, runtime.ContainerConfig{Pod: sb.Pod, Name: "bad", Image: shellImage, Command: []string{"/no/such/command"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.StartContainer(ctx, id); err == nil || !strings.Contains(err.Error(), "/no/such/command") {
		t.Errorf("StartContainer = %v, want an error naming the command", err)
	}
	st, err := r.ContainerStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != runtime.ContainerCreated || st.ExitCode == 0 || !strings.Contains(st.Message, "/no/such/command") {
		t.Errorf("status after a failed start: %+v", st)
	}
}

// TestTerminationMessage: what the container writes to its termination message path is the
// message of its exited status.
func TestTerminationMessage(t *testing.T) {
	r := newRuntime(t, "termmsg")
	sb := run(t, r, runtime.SandboxConfig{})
	id := start(t, r, sb, runtime.ContainerConfig{
		Name: "msg", Command: []string{"sh", "-c", "echo -n 'config missing' > /dev/termination-log; exit 2"},
		TerminationMessagePath: "/dev/termination-log", ReadOnlyRootfs: true, User: "1000:1000",
	})
	st := waitExited(t, r, id, 30*time.Second)
	if st.Message != "config missing" || st.ExitCode != 2 || st.Reason != "Error" {
		t.Errorf("status: %+v, want message %q", st, "config missing")
	}
	if err := r.RemoveContainer(testCtx(t), id); err != nil {
		t.Fatal(err)
	}
	if file := st.Labels[LabelTerminationLog]; file == "" || exists(file) {
		t.Errorf("termination log %q left behind after removal", file)
	}
}

// TestContainerSettings: user, read-only rootfs, capabilities, resources, restart policy and
// command mapping reach Docker.
func TestContainerSettings(t *testing.T) {
	r := newRuntime(t, "settings")
	ctx := testCtx(t)
	sb := run(t, r, runtime.SandboxConfig{})
	id := start(t, r, sb, runtime.ContainerConfig{
		Name: "set", Command: []string{"sh", "-c"}, Args: []string{`trap "exit 0" TERM; sleep 3600 & wait`},
		Env: []string{"GREETING=hi"}, WorkingDir: "/tmp", User: "1000:2000", ReadOnlyRootfs: true,
		CapDrop: []string{"ALL"}, CapAdd: []string{"NET_BIND_SERVICE"},
		Resources: runtime.Resources{CPUMillis: 500, CPURequestMillis: 250, MemoryBytes: 64 << 20},
	})
	if got := exec(t, r, id, "sh", "-c", `echo "$(id -u):$(id -g) $PWD $GREETING"`); got != "1000:2000 /tmp hi\n" {
		t.Errorf("user, dir and env = %q", got)
	}
	if _, _, code, err := r.ExecSync(ctx, id, []string{"touch", "/x"}, 10*time.Second); err != nil || code == 0 {
		t.Errorf("touch on a read-only rootfs: %d, %v; want a failure", code, err)
	}
	c, err := r.cli.ContainerInspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	hc := c.HostConfig
	if hc.CPUQuota != 50_000 || hc.CPUPeriod != 100_000 || hc.CPUShares != 256 || hc.Memory != 64<<20 || hc.MemorySwap != 64<<20 {
		t.Errorf("resources: quota %d period %d shares %d memory %d swap %d", hc.CPUQuota, hc.CPUPeriod, hc.CPUShares, hc.Memory, hc.MemorySwap)
	}
	if hc.RestartPolicy.Name != container.RestartPolicyDisabled || string(hc.NetworkMode) != "container:"+sb.ID || string(hc.IpcMode) != "container:"+sb.ID || hc.PidMode != "" {
		t.Errorf("host config: restart %q network %q ipc %q pid %q", hc.RestartPolicy.Name, hc.NetworkMode, hc.IpcMode, hc.PidMode)
	}
	if got := strings.Join(c.Config.Entrypoint, " ") + " | " + strings.Join(c.Config.Cmd, " "); !strings.HasPrefix(got, "sh -c | trap") {
		t.Errorf("entrypoint | cmd = %q", got)
	}
}

// TestExecStreams: stdout and stderr apart, exit codes, a TTY with its size, a timeout.
func TestExecStreams(t *testing.T) {
	r := newRuntime(t, "exec")
	ctx := testCtx(t)
	sb := run(t, r, runtime.SandboxConfig{})
	id := start(t, r, sb, runtime.ContainerConfig{Name: "sh", Command: sleeper})

	stdout, stderr, code, err := r.ExecSync(ctx, id, []string{"sh", "-c", "echo out; echo err >&2; exit 3"}, 10*time.Second)
	if err != nil || code != 3 || string(stdout) != "out\n" || string(stderr) != "err\n" {
		t.Errorf("ExecSync = %q, %q, %d, %v", stdout, stderr, code, err)
	}

	// API 1.41 has no initial console size: the size comes as a resize just after the start,
	// which the command waits for.
	resize := make(chan runtime.TerminalSize, 1)
	resize <- runtime.TerminalSize{Width: 123, Height: 45}
	var out strings.Builder
	code, err = r.Exec(ctx, id, runtime.ExecOptions{Cmd: []string{"sh", "-c", "sleep 1; tty; stty size"}, TTY: true, Stdout: &out, Resize: resize})
	if err != nil || code != 0 || !strings.Contains(out.String(), "/dev/pts/") || !strings.Contains(out.String(), "45 123") {
		t.Errorf("Exec with a TTY = %q, %d, %v; want a pts of 45 rows, 123 columns", out.String(), code, err)
	}

	begin := time.Now()
	_, _, _, err = r.ExecSync(ctx, id, []string{"sleep", "30"}, 500*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(begin) > 10*time.Second {
		t.Errorf("ExecSync past its timeout = %v after %s, want DeadlineExceeded soon", err, time.Since(begin))
	}
}

// TestLogStreams: stdout and stderr apart, a TTY container's log, since.
func TestLogStreams(t *testing.T) {
	r := newRuntime(t, "logs")
	ctx := testCtx(t)
	sb := run(t, r, runtime.SandboxConfig{})
	id := start(t, r, sb, runtime.ContainerConfig{Name: "two", Command: []string{"sh", "-c", "echo out; echo err >&2"}})
	waitExited(t, r, id, 30*time.Second)
	if out, errOut := logs(t, r, id); out != "out\n" || errOut != "err\n" {
		t.Errorf("logs = %q, %q", out, errOut)
	}
	tty := start(t, r, sb, runtime.ContainerConfig{Name: "tty", TTY: true, Command: []string{"sh", "-c", "echo on-tty; tty"}})
	waitExited(t, r, tty, 30*time.Second)
	if out, _ := logs(t, r, tty); !strings.Contains(out, "on-tty\r\n/dev/pts/") {
		t.Errorf("TTY logs = %q", out)
	}
	var out strings.Builder
	if err := r.Logs(ctx, id, runtime.LogOptions{TailLines: -1, Since: time.Now().Add(time.Minute)}, &out, &out); err != nil || out.Len() != 0 {
		t.Errorf("logs since a minute ahead = %q, %v", out.String(), err)
	}
}

// TestImages: a missing image fails fast with Docker's message, a pull that hangs is cut at
// the pull timeout, a bad reference fails as a pull error.
func TestImages(t *testing.T) {
	requireDocker(t)
	ctx := testCtx(t)

	// A registry that accepts connections and never answers.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	r := newRuntime(t, "images", func(o *Options) { o.PullTimeout = 3 * time.Second })
	for _, tc := range []struct {
		image string
		want  string
	}{
		{"berth-no-such-image-" + randHex(4) + ":1", "Error response from daemon"},
		{l.Addr().String() + "/berth/hang:1", "no answer within 3s"},
		{"Not/A/Valid:Reference:", "invalid reference format"},
	} {
		begin := time.Now()
		_, err := r.EnsureImage(ctx, tc.image, "IfNotPresent")
		if !errors.Is(err, runtime.ErrImagePull) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("EnsureImage(%s) = %v, want ErrImagePull with %q", tc.image, err, tc.want)
		}
		if took := time.Since(begin); took > 15*time.Second {
			t.Errorf("EnsureImage(%s) took %s", tc.image, took)
		}
	}
	// The pause image is there: RunSandbox needs no pull.
	if id, err := r.EnsureImage(ctx, pauseImage, "Never"); err != nil || !strings.HasPrefix(id, "sha256:") {
		t.Errorf("EnsureImage(pause, Never) = %q, %v", id, err)
	}
}

// TestLabelFiltering: only containers with the managed label and this node's label are seen.
func TestLabelFiltering(t *testing.T) {
	r := newRuntime(t, "labels")
	ctx := testCtx(t)
	sb := run(t, r, runtime.SandboxConfig{})
	mine := start(t, r, sb, runtime.ContainerConfig{Name: "mine", Command: sleeper})
	// A container with this node's label but not the managed one, made behind Berth's back.
	stray, err := r.cli.ContainerCreate(ctx, &container.Config{Image: shellImage, Labels: map[string]string{
		runtime.LabelNode: r.opts.NodeName, runtime.LabelContainerName: "stray", runtime.LabelManaged: "no",
	}}, nil, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := r.ListContainers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].ID != mine {
		t.Errorf("ListContainers = %+v, want only %s", cs, mine)
	}
	if _, err := r.ContainerStatus(ctx, stray.ID); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("ContainerStatus of an unmanaged container = %v, want ErrNotFound", err)
	}
	// A change made behind Berth's back shows in the next list.
	if err := r.cli.ContainerKill(ctx, mine, "KILL"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		cs, err := r.ListContainers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 1 && cs[0].State == runtime.ContainerExited {
			if cs[0].ExitCode != 137 || cs[0].Reason != "Error" {
				t.Errorf("killed container: %+v", cs[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("killed container listed as %+v", cs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestNetwork: the Pods' network is created once, labelled, on a subnet no other network has,
// and made again when removed behind the runtime's back.
func TestNetwork(t *testing.T) {
	requireDocker(t)
	name := "berth-rtest-net-" + randHex(4)
	var r *Runtime
	// Registered first, so that it runs last, once the runtimes' containers are gone.
	t.Cleanup(func() {
		if err := r.cli.NetworkRemove(context.Background(), name); err != nil && !cerrdefs.IsNotFound(err) {
			t.Errorf("removing network %s: %v", name, err)
		}
	})
	r = newRuntime(t, "net", func(o *Options) { o.Network = name })
	ctx := testCtx(t)
	sb := run(t, r, runtime.SandboxConfig{})
	nw, err := r.cli.NetworkInspect(ctx, name, network.InspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if nw.Labels[runtime.LabelManaged] != "true" || nw.Driver != "bridge" || len(nw.IPAM.Config) != 1 {
		t.Fatalf("network: %+v", nw)
	}
	subnet := netip.MustParsePrefix(nw.IPAM.Config[0].Subnet)
	if !subnet.Contains(netip.MustParseAddr(sb.IP)) {
		t.Errorf("Pod IP %s outside the network's subnet %s", sb.IP, subnet)
	}
	all, err := r.cli.NetworkList(ctx, network.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, other := range all {
		for _, c := range other.IPAM.Config {
			if p, err := netip.ParsePrefix(c.Subnet); err == nil && other.ID != nw.ID && p.Overlaps(subnet) {
				t.Errorf("subnet %s overlaps network %s's %s", subnet, other.Name, p)
			}
		}
	}

	// A second runtime (another agent) uses the same network.
	r2 := newRuntime(t, "net2", func(o *Options) { o.Network = name })
	if id, err := r2.network(ctx); err != nil || id != nw.ID {
		t.Errorf("second runtime's network = %s, %v; want %s", id, err, nw.ID)
	}

	// Removed behind the runtime's back: the next sandbox brings it back.
	if err := r.RemoveSandbox(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	if err := r.cli.NetworkRemove(ctx, name); err != nil {
		t.Fatal(err)
	}
	sb = run(t, r, runtime.SandboxConfig{})
	if sb.IP == "" {
		t.Errorf("sandbox after the network came back: %+v", sb)
	}
}

// TestInfo: docker info, as Kubernetes names things.
func TestInfo(t *testing.T) {
	r := newRuntime(t, "info")
	info, err := r.Info(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	di, err := r.cli.Info(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.CPUs != di.NCPU || info.MemoryBytes != di.MemTotal || info.RuntimeVersion != "docker://"+di.ServerVersion ||
		info.KernelVersion != di.KernelVersion || info.OS != "linux" || strings.Contains(info.Arch, "_") || info.MachineID == "" {
		t.Errorf("Info = %+v", info)
	}
}

// TestRemoveLeavesOtherNodes: removing a sandbox touches no container of another node, even
// one that claims the same sandbox.
func TestRemoveLeavesOtherNodes(t *testing.T) {
	r := newRuntime(t, "rm")
	ctx := testCtx(t)
	sb := run(t, r, runtime.SandboxConfig{})
	foreign, err := r.cli.ContainerCreate(ctx, &container.Config{Image: shellImage, Labels: map[string]string{
		runtime.LabelManaged: "true", runtime.LabelNode: r.opts.NodeName + "-elsewhere", LabelSandboxID: sb.ID,
	}}, nil, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.cli.ContainerRemove(context.Background(), foreign.ID, container.RemoveOptions{Force: true})
	if err := r.RemoveSandbox(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	list, err := r.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("id", foreign.ID))})
	if err != nil || len(list) != 1 {
		t.Errorf("the other node's container: %v, %v", list, err)
	}
}
