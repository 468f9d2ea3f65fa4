package ctl

import (
	"errors"
	"fmt"
	"strings"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FormatError renders an error the way kubectl prints it, ending with a newline:
//
//	Error from server (NotFound): pods "x" not found
//	The Pod "x" is invalid: spec.containers[0].image: Required value
//	error: the server doesn't have a resource type "foo"
func FormatError(err error) string {
	var se kerrors.APIStatus
	if !errors.As(err, &se) {
		msg := err.Error()
		if !strings.HasPrefix(msg, "error: ") {
			msg = "error: " + msg
		}
		return msg + "\n"
	}
	st := se.Status()
	switch {
	case st.Reason == kmetav1.StatusReasonInvalid && st.Details != nil:
		return invalidMessage(st)
	case st.Reason == kmetav1.StatusReasonServiceUnavailable && st.Details == nil && isConnectionError(st.Message):
		return "error: cannot reach the Berth apiserver: " + st.Message + " - is it running, and is --server (or BERTH_SERVER) right?\n"
	case st.Reason == kmetav1.StatusReasonUnauthorized:
		return fmt.Sprintf("error: You must be logged in to the server (%s)\n", st.Message)
	case st.Reason != "":
		return fmt.Sprintf("Error from server (%s): %s\n", st.Reason, err.Error())
	}
	return fmt.Sprintf("Error from server: %s\n", err.Error())
}

// invalidMessage is kubectl's rendering of an Invalid error: the object, then each cause.
func invalidMessage(st kmetav1.Status) string {
	d := st.Details
	prefix := "The request is invalid"
	switch {
	case d.Kind != "" || d.Name != "":
		prefix = fmt.Sprintf("The %s %q is invalid", d.Kind, d.Name)
	case len(d.Causes) > 0 && d.Causes[0].Field != "":
		prefix = "The request is invalid: " + d.Causes[0].Field
	}
	switch len(d.Causes) {
	case 0:
		if st.Message != "" {
			return "Error from server (Invalid): " + st.Message + "\n"
		}
		return prefix + "\n"
	case 1:
		return fmt.Sprintf("%s: %s\n", prefix, cause(d.Causes[0]))
	}
	var b strings.Builder
	b.WriteString(prefix + ": \n")
	for _, c := range d.Causes {
		fmt.Fprintf(&b, "* %s\n", cause(c))
	}
	return b.String()
}

func cause(c kmetav1.StatusCause) string {
	if c.Field == "" {
		return c.Message
	}
	return c.Field + ": " + c.Message
}

// isConnectionError tells whether a message is gRPC's report of a transport that could not
// connect, rather than a server that answered "unavailable".
func isConnectionError(msg string) bool {
	for _, s := range []string{"connection refused", "connection error", "no such host", "transport:", "i/o timeout"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
