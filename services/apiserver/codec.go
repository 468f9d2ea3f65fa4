package apiserver

import (
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the proto codec this one defers to
	"google.golang.org/grpc/mem"
)

// encodedMessage is a message already in protobuf wire form: a watch event encoded once and
// sent to every watcher that receives it.
type encodedMessage []byte

// codec is the gRPC server's codec: protobuf, except that an encodedMessage is sent as it is.
type codec struct{ proto encoding.CodecV2 }

func newCodec() codec { return codec{proto: encoding.GetCodecV2("proto")} }

func (c codec) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(encodedMessage); ok {
		return mem.BufferSlice{mem.SliceBuffer(m)}, nil
	}
	return c.proto.Marshal(v)
}

func (c codec) Unmarshal(data mem.BufferSlice, v any) error { return c.proto.Unmarshal(data, v) }

func (c codec) Name() string { return c.proto.Name() }
