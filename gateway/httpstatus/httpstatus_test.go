package httpstatus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/berth-dev/berth/pkg/apistatus"
)

func TestFromError(t *testing.T) {
	pods := schema.GroupResource{Resource: "pods"}
	invalid := kerrors.NewInvalid(schema.GroupKind{Kind: "Pod"}, "x", field.ErrorList{field.Required(field.NewPath("spec", "containers"), "")})
	cases := []struct {
		name   string
		err    error
		code   int32
		reason kmetav1.StatusReason
	}{
		{"not found", kerrors.NewNotFound(pods, "x"), 404, kmetav1.StatusReasonNotFound},
		{"already exists", kerrors.NewAlreadyExists(pods, "x"), 409, kmetav1.StatusReasonAlreadyExists},
		{"conflict", kerrors.NewConflict(pods, "x", errors.New("modified")), 409, kmetav1.StatusReasonConflict},
		{"invalid", invalid, 422, kmetav1.StatusReasonInvalid},
		{"bad request", BadRequest("no"), 400, kmetav1.StatusReasonBadRequest},
		{"expired", kerrors.NewResourceExpired("too old"), 410, kmetav1.StatusReasonExpired},
		{"forbidden", kerrors.NewForbidden(pods, "x", errors.New("terminating")), 403, kmetav1.StatusReasonForbidden},
		{"too large", kerrors.NewRequestEntityTooLargeError("big"), 413, kmetav1.StatusReasonRequestEntityTooLarge},
		{"wrapped", fmt.Errorf("get: %w", kerrors.NewNotFound(pods, "x")), 404, kmetav1.StatusReasonNotFound},
		{"through grpc", apistatus.ToGRPC(invalid), 422, kmetav1.StatusReasonInvalid},
		{"bare grpc not found", status.Error(codes.NotFound, "gone"), 404, kmetav1.StatusReasonNotFound},
		{"bare grpc unavailable", status.Error(codes.Unavailable, "down"), 503, kmetav1.StatusReasonServiceUnavailable},
		{"deadline", context.DeadlineExceeded, 504, kmetav1.StatusReasonTimeout},
		{"plain", errors.New("boom"), 500, kmetav1.StatusReasonInternalError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := FromError(tc.err)
			if st.Code != tc.code || st.Reason != tc.reason || st.Kind != "Status" || st.APIVersion != "v1" || st.Status != "Failure" {
				t.Errorf("got code %d reason %s kind %s/%s status %s; want %d %s", st.Code, st.Reason, st.APIVersion, st.Kind, st.Status, tc.code, tc.reason)
			}
		})
	}
}

func TestWriteErrorKeepsCauses(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, apistatus.FromGRPC(apistatus.ToGRPC(kerrors.NewInvalid(schema.GroupKind{Kind: "Pod"}, "x",
		field.ErrorList{field.Invalid(field.NewPath("metadata", "name"), "X", "must be lowercase")}))))
	if rec.Code != http.StatusUnprocessableEntity || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("code %d content-type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	var st kmetav1.Status
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	if st.Details == nil || len(st.Details.Causes) != 1 || st.Details.Causes[0].Field != "metadata.name" || st.Details.Kind != "Pod" {
		t.Errorf("details: %+v", st.Details)
	}
}
