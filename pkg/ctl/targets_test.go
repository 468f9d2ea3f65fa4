package ctl

import (
	"strings"
	"testing"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/berth-dev/berth/pkg/scheme"
)

func TestParseTargets(t *testing.T) {
	tests := []struct {
		args    []string
		want    string // kind:name,name;kind:...
		single  bool
		wantErr string
	}{
		{args: []string{"po"}, want: "Pod:"},
		{args: []string{"pods", "a", "b"}, want: "Pod:a,b"},
		{args: []string{"deploy", "web"}, want: "Deployment:web", single: true},
		{args: []string{"po,svc,pods"}, want: "Pod:;Service:"},
		{args: []string{"po,svc", "x"}, want: "Pod:x;Service:x"},
		{args: []string{"pod/a"}, want: "Pod:a", single: true},
		{args: []string{"all"}, want: "Pod:;ReplicationController:;Service:;Deployment:;ReplicaSet:"},
		{args: []string{"svc,all"}, want: "Service:;Pod:;ReplicationController:;Deployment:;ReplicaSet:"},
		{args: []string{"po,pods", "x"}, want: "Pod:x"},
		{args: []string{"pod/a", "po/b", "svc/c", "pod/d"}, want: "Pod:a,b;Service:c;Pod:d"},
		{args: []string{"deployments.apps/web"}, want: "Deployment:web", single: true},
		{args: []string{"ns", "kube-system"}, want: "Namespace:kube-system", single: true},
		{args: []string{"pod/a", "b"}, wantErr: "no need to specify a resource type as a separate argument"},
		{args: []string{"pod", "po/b"}, wantErr: "no need to specify a resource type as a separate argument"},
		{args: []string{"pod/"}, wantErr: "must have a single resource and name"},
		{args: []string{"pod/a/b"}, wantErr: "may not have more than one slash"},
		{args: []string{"frobs"}, wantErr: `the server doesn't have a resource type "frobs"`},
		{args: []string{","}, wantErr: "you must specify the type of resource"},
		{args: nil, wantErr: "you must specify the type of resource"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			targets, single, err := parseTargets(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, tg := range targets {
				parts = append(parts, tg.r.Kind+":"+strings.Join(tg.names, ","))
			}
			if got := strings.Join(parts, ";"); got != tt.want || single != tt.single {
				t.Errorf("got %q single=%v, want %q single=%v", got, single, tt.want, tt.single)
			}
		})
	}
}

func TestFormatError(t *testing.T) {
	pods := schema.GroupResource{Resource: "pods"}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"not found", kerrors.NewNotFound(pods, "x"), "Error from server (NotFound): pods \"x\" not found\n"},
		{"already exists with source", withSource("creating", "pod.yaml", kerrors.NewAlreadyExists(pods, "x")),
			"Error from server (AlreadyExists): error when creating \"pod.yaml\": pods \"x\" already exists\n"},
		{"conflict", kerrors.NewConflict(pods, "x", errFoo), "Error from server (Conflict): Operation cannot be fulfilled on pods \"x\": foo\n"},
		{"invalid, one cause", kerrors.NewInvalid(schema.GroupKind{Kind: "Pod"}, "x", field.ErrorList{field.Required(field.NewPath("spec", "containers").Index(0).Child("image"), "")}),
			"The Pod \"x\" is invalid: spec.containers[0].image: Required value\n"},
		{"invalid, two causes", kerrors.NewInvalid(schema.GroupKind{Kind: "Pod"}, "x", field.ErrorList{
			field.Required(field.NewPath("spec", "containers"), ""), field.Invalid(field.NewPath("metadata", "name"), "X", "must be lower case")}),
			"The Pod \"x\" is invalid: \n* spec.containers: Required value\n* metadata.name: Invalid value: \"X\": must be lower case\n"},
		{"plain", errFoo, "error: foo\n"},
		{"unknown kind", mustErr(scheme.ForName("frob")), "error: the server doesn't have a resource type \"frob\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatError(tt.err); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

type fooError struct{}

func (fooError) Error() string { return "foo" }

var errFoo = fooError{}

func mustErr(_ *scheme.Resource, err error) error { return err }

func FuzzParseTargets(f *testing.F) {
	for _, s := range []string{"po", "pods a b", "po,svc x", "pod/a svc/b", "deployments.apps/web", "pod/", "/x", ",", "po,,svc", "pod a/b", "NS Kube-System"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		targets, single, err := parseTargets(strings.Fields(s))
		if err != nil {
			return
		}
		if len(targets) == 0 {
			t.Fatalf("%q: no targets and no error", s)
		}
		n := 0
		for _, tg := range targets {
			if tg.r == nil {
				t.Fatalf("%q: target without a resource", s)
			}
			for _, name := range tg.names {
				if name == "" || strings.Contains(name, "/") {
					t.Fatalf("%q: bad name %q", s, name)
				}
			}
			n += len(tg.names)
		}
		if single && n != 1 {
			t.Fatalf("%q: single with %d names", s, n)
		}
	})
}
