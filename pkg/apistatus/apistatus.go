package apistatus

import (
	"context"
	"errors"
	"net/http"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// codeForReason is the one table from Kubernetes' status reasons to gRPC codes.
var codeForReason = map[kmetav1.StatusReason]codes.Code{
	kmetav1.StatusReasonNotFound:              codes.NotFound,
	kmetav1.StatusReasonAlreadyExists:         codes.AlreadyExists,
	kmetav1.StatusReasonConflict:              codes.Aborted,
	kmetav1.StatusReasonInvalid:               codes.InvalidArgument,
	kmetav1.StatusReasonBadRequest:            codes.InvalidArgument,
	kmetav1.StatusReasonRequestEntityTooLarge: codes.InvalidArgument,
	kmetav1.StatusReasonExpired:               codes.OutOfRange,
	kmetav1.StatusReasonGone:                  codes.OutOfRange,
	kmetav1.StatusReasonForbidden:             codes.PermissionDenied,
	kmetav1.StatusReasonUnauthorized:          codes.Unauthenticated,
	kmetav1.StatusReasonTimeout:               codes.DeadlineExceeded,
	kmetav1.StatusReasonServerTimeout:         codes.Unavailable,
	kmetav1.StatusReasonTooManyRequests:       codes.ResourceExhausted,
	kmetav1.StatusReasonMethodNotAllowed:      codes.Unimplemented,
	kmetav1.StatusReasonNotAcceptable:         codes.InvalidArgument,
	kmetav1.StatusReasonUnsupportedMediaType:  codes.InvalidArgument,
	kmetav1.StatusReasonServiceUnavailable:    codes.Unavailable,
	kmetav1.StatusReasonInternalError:         codes.Internal,
}

// reasonForCode maps a bare gRPC code (no Status in its details) back to a reason and HTTP code.
var reasonForCode = map[codes.Code]struct {
	reason kmetav1.StatusReason
	code   int32
}{
	codes.NotFound:          {kmetav1.StatusReasonNotFound, http.StatusNotFound},
	codes.AlreadyExists:     {kmetav1.StatusReasonAlreadyExists, http.StatusConflict},
	codes.Aborted:           {kmetav1.StatusReasonConflict, http.StatusConflict},
	codes.InvalidArgument:   {kmetav1.StatusReasonBadRequest, http.StatusBadRequest},
	codes.OutOfRange:        {kmetav1.StatusReasonExpired, http.StatusGone},
	codes.PermissionDenied:  {kmetav1.StatusReasonForbidden, http.StatusForbidden},
	codes.Unauthenticated:   {kmetav1.StatusReasonUnauthorized, http.StatusUnauthorized},
	codes.DeadlineExceeded:  {kmetav1.StatusReasonTimeout, http.StatusGatewayTimeout},
	codes.Canceled:          {kmetav1.StatusReasonTimeout, http.StatusGatewayTimeout},
	codes.ResourceExhausted: {kmetav1.StatusReasonTooManyRequests, http.StatusTooManyRequests},
	codes.Unimplemented:     {kmetav1.StatusReasonMethodNotAllowed, http.StatusMethodNotAllowed},
	codes.Unavailable:       {kmetav1.StatusReasonServiceUnavailable, http.StatusServiceUnavailable},
}

// Code is the gRPC code for a Kubernetes status reason (Internal when unknown).
func Code(reason kmetav1.StatusReason) codes.Code {
	if c, ok := codeForReason[reason]; ok {
		return c
	}
	return codes.Internal
}

// ToGRPC converts an error to a gRPC status error. A *StatusError keeps all its detail; a
// context error becomes Canceled or DeadlineExceeded; a gRPC status passes through; anything
// else is Internal.
func ToGRPC(err error) error {
	if err == nil {
		return nil
	}
	var se kerrors.APIStatus
	if errors.As(err, &se) {
		st := se.Status()
		s := status.New(Code(st.Reason), st.Message)
		if ws, derr := s.WithDetails(toProto(&st)); derr == nil {
			s = ws
		}
		return s.Err()
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

// FromGRPC converts a gRPC error back to a *StatusError, so kerrors.IsNotFound and friends work
// on the client side. Errors that are not gRPC statuses are returned unchanged.
func FromGRPC(err error) error {
	if err == nil {
		return nil
	}
	s, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, d := range s.Details() {
		if ps, ok := d.(*metav1.Status); ok {
			return &kerrors.StatusError{ErrStatus: fromProto(ps)}
		}
	}
	r, ok := reasonForCode[s.Code()]
	if !ok {
		r.reason, r.code = kmetav1.StatusReasonInternalError, http.StatusInternalServerError
	}
	return &kerrors.StatusError{ErrStatus: kmetav1.Status{
		Status: kmetav1.StatusFailure, Message: s.Message(), Reason: r.reason, Code: r.code,
	}}
}

// UnaryServerInterceptor converts every error a unary handler returns with ToGRPC.
func UnaryServerInterceptor(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	resp, err := h(ctx, req)
	return resp, ToGRPC(err)
}

// StreamServerInterceptor converts every error a streaming handler returns with ToGRPC.
func StreamServerInterceptor(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	return ToGRPC(h(srv, ss))
}

// UnaryClientInterceptor converts every error of a unary call with FromGRPC.
func UnaryClientInterceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	return FromGRPC(invoker(ctx, method, req, reply, cc, opts...))
}

// StreamClientInterceptor converts errors of stream set-up and of RecvMsg with FromGRPC.
func StreamClientInterceptor(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	cs, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		return nil, FromGRPC(err)
	}
	return &clientStream{cs}, nil
}

type clientStream struct{ grpc.ClientStream }

func (s *clientStream) RecvMsg(m any) error { return FromGRPC(s.ClientStream.RecvMsg(m)) }

// ToProto converts a Kubernetes Status to Berth's proto Status.
func ToProto(st *kmetav1.Status) *metav1.Status { return toProto(st) }

// FromProto converts Berth's proto Status to a Kubernetes Status.
func FromProto(ps *metav1.Status) kmetav1.Status { return fromProto(ps) }

func toProto(st *kmetav1.Status) *metav1.Status {
	ps := &metav1.Status{Status: st.Status, Message: st.Message, Reason: string(st.Reason), Code: st.Code}
	if d := st.Details; d != nil {
		ps.Details = &metav1.StatusDetails{Name: d.Name, Group: d.Group, Kind: d.Kind, Uid: string(d.UID), RetryAfterSeconds: d.RetryAfterSeconds}
		for _, c := range d.Causes {
			ps.Details.Causes = append(ps.Details.Causes, &metav1.StatusCause{Reason: string(c.Type), Message: c.Message, Field: c.Field})
		}
	}
	return ps
}

func fromProto(ps *metav1.Status) kmetav1.Status {
	st := kmetav1.Status{
		TypeMeta: kmetav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   ps.GetStatus(), Message: ps.GetMessage(), Reason: kmetav1.StatusReason(ps.GetReason()), Code: ps.GetCode(),
	}
	if d := ps.GetDetails(); d != nil {
		st.Details = &kmetav1.StatusDetails{Name: d.Name, Group: d.Group, Kind: d.Kind, UID: typesUID(d.Uid), RetryAfterSeconds: d.RetryAfterSeconds}
		for _, c := range d.Causes {
			st.Details.Causes = append(st.Details.Causes, kmetav1.StatusCause{Type: kmetav1.CauseType(c.Reason), Message: c.Message, Field: c.Field})
		}
	}
	return st
}
