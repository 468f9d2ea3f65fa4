package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// defaultContainerAnnotation names the container kubectl picks when none is given.
const defaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

func newLogs(g *globals) *cobra.Command {
	var (
		container  string
		follow     bool
		previous   bool
		timestamps bool
		tail       int64
		limitBytes int64
		since      time.Duration
	)
	cmd := &cobra.Command{
		Use:   "logs POD [-c CONTAINER]",
		Short: "Print the logs of a container in a pod",
		Long: "Print the logs of a container in a pod. The container may be left out when the pod has one\n" +
			"(or names its default in the kubectl.kubernetes.io/default-container annotation).",
		Example: "  berthctl logs web\n  berthctl logs -f web -c app --tail 20\n  berthctl logs web --previous",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("expected exactly one pod name, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := podName(args[0])
			if err != nil {
				return err
			}
			req := &corev1.PodLogRequest{
				Namespace: g.namespace, Name: name, Follow: follow, Previous: previous, Timestamps: timestamps,
			}
			if cmd.Flags().Changed("tail") && tail >= 0 {
				req.TailLines = &tail
			}
			if limitBytes > 0 {
				req.LimitBytes = &limitBytes
			}
			if since > 0 {
				s := int64((since + time.Second - 1) / time.Second)
				req.SinceSeconds = &s
			}
			if req.Container, err = g.pickContainer(cmd.Context(), g.namespace, name, container); err != nil {
				return err
			}
			return g.streamLog(cmd.Context(), req)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&container, "container", "c", "", "print the logs of this container")
	f.BoolVarP(&follow, "follow", "f", false, "keep streaming the logs as they are written")
	f.BoolVarP(&previous, "previous", "p", false, "print the logs of the container's previous run")
	f.BoolVar(&timestamps, "timestamps", false, "prefix each line with its RFC 3339 timestamp")
	f.Int64Var(&tail, "tail", -1, "lines of recent log to print (-1: all)")
	f.Int64Var(&limitBytes, "limit-bytes", 0, "bytes of log to print at most (0: no limit)")
	f.DurationVar(&since, "since", 0, "print only the logs newer than this duration (5s, 2m, 3h)")
	return cmd
}

// streamLog copies the log the server streams to Out until it ends.
func (g *globals) streamLog(ctx context.Context, req *corev1.PodLogRequest) error {
	c, err := g.client(ctx)
	if err != nil {
		return err
	}
	stream, err := corev1.NewPodServiceClient(c.Conn()).Log(ctx, req)
	if err != nil {
		return err
	}
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil // interrupted: a followed log ends here
			}
			return err
		}
		if _, err := g.Out.Write(chunk.GetData()); err != nil {
			return err
		}
	}
}

// podName reads POD, pod/POD or pods/POD (kubectl's TYPE/NAME for a pod).
func podName(arg string) (string, error) {
	kind, name, ok := strings.Cut(arg, "/")
	if !ok {
		if arg == "" {
			return "", usagef("a pod name is required")
		}
		return arg, nil
	}
	if r, err := scheme.ForName(kind); err != nil || r != scheme.Pods {
		return "", usagef("%s is not a pod: only pods have logs and exec", arg)
	}
	if name == "" || strings.Contains(name, "/") {
		return "", usagef("%s names no pod", arg)
	}
	return name, nil
}

// pickContainer returns container when set; else the Pod's default: its only container, the
// one its kubectl.kubernetes.io/default-container annotation names, or its first (said on
// ErrOut, as kubectl does).
func (g *globals) pickContainer(ctx context.Context, namespace, name, container string) (string, error) {
	if container != "" {
		return container, nil
	}
	c, err := g.client(ctx)
	if err != nil {
		return "", err
	}
	cctx, cancel := g.call(ctx)
	defer cancel()
	obj, err := c.Resource(scheme.Pods).Get(cctx, namespace, name)
	if err != nil {
		return "", err
	}
	pod := obj.(*corev1.Pod)
	containers := pod.GetSpec().GetContainers()
	if def := pod.GetMetadata().GetAnnotations()[defaultContainerAnnotation]; def != "" {
		for _, c := range containers {
			if c.GetName() == def {
				return def, nil
			}
		}
	}
	switch len(containers) {
	case 0:
		return "", fmt.Errorf("pod %s has no containers", name)
	case 1:
		return containers[0].GetName(), nil
	}
	var names []string
	for _, c := range containers {
		names = append(names, c.GetName())
	}
	for _, c := range pod.GetSpec().GetInitContainers() {
		names = append(names, c.GetName()+" (init)")
	}
	fmt.Fprintf(g.ErrOut, "Defaulted container %q out of: %s\n", containers[0].GetName(), strings.Join(names, ", "))
	return containers[0].GetName(), nil
}
