package httpstatus

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-dev/berth/pkg/apistatus"
)

// codeForReason is the one table from a Status reason to its HTTP code, for errors whose
// Status carries no code.
var codeForReason = map[kmetav1.StatusReason]int32{
	kmetav1.StatusReasonNotFound:              http.StatusNotFound,
	kmetav1.StatusReasonAlreadyExists:         http.StatusConflict,
	kmetav1.StatusReasonConflict:              http.StatusConflict,
	kmetav1.StatusReasonInvalid:               http.StatusUnprocessableEntity,
	kmetav1.StatusReasonBadRequest:            http.StatusBadRequest,
	kmetav1.StatusReasonExpired:               http.StatusGone,
	kmetav1.StatusReasonGone:                  http.StatusGone,
	kmetav1.StatusReasonForbidden:             http.StatusForbidden,
	kmetav1.StatusReasonUnauthorized:          http.StatusUnauthorized,
	kmetav1.StatusReasonMethodNotAllowed:      http.StatusMethodNotAllowed,
	kmetav1.StatusReasonNotAcceptable:         http.StatusNotAcceptable,
	kmetav1.StatusReasonUnsupportedMediaType:  http.StatusUnsupportedMediaType,
	kmetav1.StatusReasonRequestEntityTooLarge: http.StatusRequestEntityTooLarge,
	kmetav1.StatusReasonTooManyRequests:       http.StatusTooManyRequests,
	kmetav1.StatusReasonTimeout:               http.StatusGatewayTimeout,
	kmetav1.StatusReasonServerTimeout:         http.StatusInternalServerError,
	kmetav1.StatusReasonServiceUnavailable:    http.StatusServiceUnavailable,
	kmetav1.StatusReasonInternalError:         http.StatusInternalServerError,
}

// FromError returns the Status for any error: a *StatusError keeps its own; a gRPC status is
// converted through pkg/apistatus; a context error is a Timeout; anything else is an
// InternalError. The Status always has kind, apiVersion, status Failure and a code.
func FromError(err error) kmetav1.Status {
	var st kmetav1.Status
	var se kerrors.APIStatus
	switch {
	case errors.As(err, &se):
		st = se.Status()
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		st = kerrors.NewTimeoutError(err.Error(), 0).ErrStatus
	default:
		conv := apistatus.FromGRPC(err)
		if errors.As(conv, &se) {
			st = se.Status()
		} else {
			st = kerrors.NewInternalError(err).ErrStatus
		}
	}
	st.TypeMeta = kmetav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	st.Status = kmetav1.StatusFailure
	if st.Code == 0 {
		st.Code = codeForReason[st.Reason]
		if st.Code == 0 {
			st.Code = http.StatusInternalServerError
		}
	}
	return st
}

// WriteError answers a request with the Status of err.
func WriteError(w http.ResponseWriter, err error) {
	st := FromError(err)
	Write(w, int(st.Code), &st)
}

// Write sends v as JSON with the given HTTP code.
func Write(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b = []byte(`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"encode response","reason":"InternalError","code":500}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// BadRequest is a Status error for a request the gateway cannot read (400).
func BadRequest(msg string) error { return kerrors.NewBadRequest(msg) }
