package docker

import (
	"context"
	"testing"

	"github.com/docker/docker/api/types/container"

	"github.com/berth-dev/berth/agent/runtime"
)

// BenchmarkPodStart runs a Pod of one testapp container through the runtime: the sandbox,
// then the container, created and started.
func BenchmarkPodStart(b *testing.B) {
	requireDocker(b)
	r, err := New(Options{NodeName: "bench-" + randHex(3), Network: testNetwork, StateDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	var sandboxes []string
	defer func() {
		for _, id := range sandboxes {
			_ = r.RemoveSandbox(ctx, id)
		}
	}()
	for b.Loop() {
		sb, err := r.RunSandbox(ctx, runtime.SandboxConfig{Pod: newPod("bench"), Hostname: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		sandboxes = append(sandboxes, sb.ID)
		id, err := r.CreateContainer(ctx, sb.ID, runtime.ContainerConfig{
			Pod: sb.Pod, Name: "app", Image: testappImage, TerminationMessagePath: "/dev/termination-log",
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.StartContainer(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawStart does what BenchmarkPodStart does with bare Docker calls, for comparison.
func BenchmarkRawStart(b *testing.B) {
	requireDocker(b)
	r, err := New(Options{NodeName: "bench-" + randHex(3), Network: testNetwork})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	if _, err := r.network(ctx); err != nil {
		b.Fatal(err)
	}
	labels := map[string]string{runtime.LabelManaged: "bench"}
	var ids []string
	defer func() {
		for _, id := range ids {
			_ = r.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true})
		}
	}()
	for b.Loop() {
		pause, err := r.cli.ContainerCreate(ctx, &container.Config{Image: pauseImage, Labels: labels},
			&container.HostConfig{NetworkMode: container.NetworkMode(testNetwork), IpcMode: container.IPCModeShareable}, nil, nil, "")
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, pause.ID)
		if err := r.cli.ContainerStart(ctx, pause.ID, container.StartOptions{}); err != nil {
			b.Fatal(err)
		}
		join := "container:" + pause.ID
		app, err := r.cli.ContainerCreate(ctx, &container.Config{Image: testappImage, Labels: labels},
			&container.HostConfig{NetworkMode: container.NetworkMode(join), IpcMode: container.IpcMode(join)}, nil, nil, "")
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, app.ID)
		if err := r.cli.ContainerStart(ctx, app.ID, container.StartOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
