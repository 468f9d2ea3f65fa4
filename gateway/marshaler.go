package gateway

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/gateway/internal/body"
	"github.com/berth-dev/berth/pkg/kubejson"
)

// marshaler is the grpc-gateway Marshaler that speaks Kubernetes JSON: proto messages
// through pkg/kubejson (apiVersion and kind, Kubernetes field names, int64 as numbers), and
// the few Kubernetes Go types the gateway answers with (Status, Table) through encoding/json.
// It answers every request, whatever its Accept header: JSON is what the gateway speaks, and a
// client that prefers protobuf gets JSON, never a 406.
type marshaler struct{}

var _ runtime.Marshaler = marshaler{}

// ContentType is application/json for everything.
func (marshaler) ContentType(any) string { return "application/json" }

// Marshal writes v as Kubernetes writes it.
func (marshaler) Marshal(v any) ([]byte, error) {
	switch v := v.(type) {
	case readAnswer:
		return kubejson.MarshalOptions{Cache: v.cache}.Marshal(v.msg)
	case proto.Message:
		return kubejson.Marshal(v)
	}
	return json.Marshal(v)
}

// readAnswer is the answer to a get or a list, which holds stored objects: their JSON may
// come from the cache (the rewriter marks them).
type readAnswer struct {
	msg   proto.Message
	cache *kubejson.Cache
}

// Unmarshal decodes Kubernetes JSON into a proto message, strictly.
func (marshaler) Unmarshal(data []byte, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("decode into %T: not a proto message", v)
	}
	return kubejson.Unmarshal(data, m)
}

// NewDecoder decodes a request body. The gateway decodes write bodies before they reach the
// generated handlers (to answer with Kubernetes' errors and warnings) and hands them over as
// a *decodedBody; any other body is read here, strictly and within body.MaxBytes.
func (m marshaler) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		if d, ok := r.(*decodedBody); ok {
			return d.into(v)
		}
		data, err := body.ReadLimited(r)
		if err != nil {
			return err
		}
		if len(data) == 0 {
			return io.EOF
		}
		return m.Unmarshal(data, v)
	})
}

// NewEncoder writes values as Marshal does.
func (m marshaler) NewEncoder(w io.Writer) runtime.Encoder {
	return runtime.EncoderFunc(func(v any) error {
		b, err := m.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
}

// decodedBody stands in for the body of a request the gateway has already decoded and
// checked: the marshaler's decoder hands its message to the generated handler.
type decodedBody struct {
	msg proto.Message
}

func (*decodedBody) Read([]byte) (int, error) { return 0, io.EOF }
func (*decodedBody) Close() error             { return nil }

// into hands the decoded message over to the generated handler's v, without copying what it
// points to: the body is decoded for this one request.
func (d *decodedBody) into(v any) error {
	dv, sv := reflect.ValueOf(v), reflect.ValueOf(d.msg)
	if !dv.IsValid() || dv.Type() != sv.Type() || dv.IsNil() {
		return fmt.Errorf("decoded body is a %s, the handler wants a %T", d.msg.ProtoReflect().Descriptor().FullName(), v)
	}
	dv.Elem().Set(sv.Elem())
	return nil
}
