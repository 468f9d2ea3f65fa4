package main

import (
	"context"
	"fmt"
	"math"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// The benchmark's clients send protobuf requests but receive Pods undecoded; watchers read only
// the three fields they need, with the scanner below. A client in another process pays for
// decoding itself; here the clients share the CPUs with the apiserver they measure, and raw
// etcd's clients never decode the Pods they get, so Berth's clients must not either.

// frameCodec is a gRPC codec that marshals requests as protobuf and hands responses over as
// their undecoded bytes (into a *[]byte). Its name is "proto", so the server sees an ordinary
// protobuf call.
type frameCodec struct{}

// Marshal encodes a protobuf request.
func (frameCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("frame codec: cannot marshal %T", v)
	}
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

// Unmarshal copies a response's bytes into v, a *[]byte, reusing its capacity.
func (frameCodec) Unmarshal(data mem.BufferSlice, v any) error {
	p, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("frame codec: cannot unmarshal into %T", v)
	}
	buf := (*p)[:0]
	for _, d := range data {
		buf = append(buf, d.ReadOnlyData()...)
	}
	*p = buf
	return nil
}

// Name is the content subtype, that of protobuf.
func (frameCodec) Name() string { return "proto" }

// watchFrames starts a Pod watch whose events arrive undecoded, and returns once the server
// has established it.
func watchFrames(ctx context.Context, conn *grpc.ClientConn, opts *metav1.ListOptions) (grpc.ClientStream, error) {
	desc := &grpc.StreamDesc{StreamName: "Watch", ServerStreams: true}
	s, err := conn.NewStream(ctx, desc, scheme.Pods.Method("Watch"), grpc.ForceCodecV2(frameCodec{}))
	if err != nil {
		return nil, fmt.Errorf("watch pods: %w", err)
	}
	if err := s.SendMsg(opts); err != nil {
		return nil, fmt.Errorf("watch pods: %w", err)
	}
	if err := s.CloseSend(); err != nil {
		return nil, fmt.Errorf("watch pods: %w", err)
	}
	if _, err := s.Header(); err != nil {
		return nil, fmt.Errorf("watch pods: %w", err)
	}
	return s, nil
}

// listFrames lists Pods into *buf, undecoded.
func listFrames(ctx context.Context, conn *grpc.ClientConn, opts *metav1.ListOptions, buf *[]byte) error {
	return invokeFrames(ctx, conn, "List", opts, buf)
}

// invokeFrames calls a PodService method with a protobuf request and receives its response
// into *buf, undecoded.
func invokeFrames(ctx context.Context, conn *grpc.ClientConn, method string, req proto.Message, buf *[]byte) error {
	if err := conn.Invoke(ctx, scheme.Pods.Method(method), req, buf, grpc.ForceCodecV2(frameCodec{})); err != nil {
		return fmt.Errorf("%s pods: %w", strings.ToLower(method), err)
	}
	return nil
}

// podEvent is what a benchmark watcher reads from a Pod watch event. The slices point into the
// event's bytes.
type podEvent struct {
	typ, name, sent []byte
}

// Field numbers of the fields podEvent reads, from the generated descriptors.
var (
	evType, evObject = fieldNum((*corev1.PodWatchEvent)(nil), "type"), fieldNum((*corev1.PodWatchEvent)(nil), "object")
	podMetadata      = fieldNum((*corev1.Pod)(nil), "metadata")
	metaName         = fieldNum((*metav1.ObjectMeta)(nil), "name")
	metaAnnotations  = fieldNum((*metav1.ObjectMeta)(nil), "annotations")
)

func fieldNum(m proto.Message, name protoreflect.Name) protowire.Number {
	fd := m.ProtoReflect().Descriptor().Fields().ByName(name)
	if fd == nil {
		panic(fmt.Sprintf("%T has no field %s", m, name))
	}
	return fd.Number()
}

// scanPodEvent reads the type, the Pod's name and its sent annotation from an encoded
// PodWatchEvent, with protobuf's semantics for repeated occurrences (the last one wins, messages
// merge). Only string and message fields are interpreted; the others are skipped.
func scanPodEvent(b []byte) (podEvent, error) {
	var ev podEvent
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch {
		case typ != protowire.BytesType:
		case num == evType:
			ev.typ = v
		case num == evObject:
			return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if num != podMetadata || typ != protowire.BytesType {
					return nil
				}
				return scanMeta(v, &ev)
			})
		}
		return nil
	})
	return ev, err
}

func scanMeta(b []byte, ev *podEvent) error {
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch {
		case typ != protowire.BytesType:
		case num == metaName:
			ev.name = v
		case num == metaAnnotations:
			var key, val []byte
			if err := eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if typ == protowire.BytesType {
					switch num {
					case 1:
						key = v
					case 2:
						val = v
					}
				}
				return nil
			}); err != nil {
				return err
			}
			if string(key) == sentAnnotation {
				ev.sent = val
				if val == nil {
					ev.sent = []byte{}
				}
			}
		}
		return nil
	})
}

// parseUint parses a non-negative decimal int64 without allocating.
func parseUint(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' || n > (math.MaxInt64-int64(c-'0'))/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// nameSeq returns the sequence number at the end of a Pod name made by podName.
func nameSeq(name []byte) (int, bool) {
	i := len(name)
	for i > 0 && name[i-1] >= '0' && name[i-1] <= '9' {
		i--
	}
	n, ok := parseUint(name[i:])
	return int(n), ok
}
