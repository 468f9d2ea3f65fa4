package openapi

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"
	kappsv1 "k8s.io/api/apps/v1"
	kautoscalingv1 "k8s.io/api/autoscaling/v1"
	kcoordinationv1 "k8s.io/api/coordination/v1"
	kcorev1 "k8s.io/api/core/v1"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/berth-dev/berth/pkg/scheme"
	autoscalingv1 "github.com/berth-dev/berth/proto/berth/autoscaling/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Document is an OpenAPI v3 document of one group version.
type Document struct {
	OpenAPI    string               `json:"openapi"`
	Info       Info                 `json:"info"`
	Paths      map[string]*PathItem `json:"paths"`
	Components Components           `json:"components"`
}

// Info is a document's title and version.
type Info struct {
	Title   string `json:"title"`
	Version string `json:"version"`
}

// Components holds a document's schemas by name.
type Components struct {
	Schemas map[string]*Schema `json:"schemas"`
}

// kubeScheme knows the Kubernetes Go type of every kind Berth mirrors.
var kubeScheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{kcorev1.AddToScheme, kappsv1.AddToScheme, kcoordinationv1.AddToScheme, kautoscalingv1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err) // registering the compiled-in types cannot fail
		}
	}
	return s
}()

// kubeType is the Go struct type of a Kubernetes kind, nil when Kubernetes has no such kind.
func kubeType(group, version, kind string) reflect.Type {
	obj, err := kubeScheme.New(schema.GroupVersionKind{Group: group, Version: version, Kind: kind})
	if err != nil {
		return nil
	}
	return reflect.TypeOf(obj).Elem()
}

var typeMetaDoc = kmetav1.TypeMeta{}.SwaggerDoc()

// kind generates the schema of a top-level kind: its message's schema plus apiVersion, kind
// and x-kubernetes-group-version-kind.
func (g *generator) kind(m proto.Message, gvk GroupVersionKind) string {
	name := g.message(m.ProtoReflect().Descriptor(), kubeType(gvk.Group, gvk.Version, gvk.Kind))
	s := g.schemas[name]
	s.GroupVersionKind = []GroupVersionKind{gvk}
	s.Properties["apiVersion"] = &Schema{Type: "string", Description: typeMetaDoc["apiVersion"]}
	s.Properties["kind"] = &Schema{Type: "string", Description: typeMetaDoc["kind"]}
	return name
}

// groupVersionPath is the index key of a group version: "api/v1", "apis/apps/v1".
func groupVersionPath(group, version string) string {
	if group == "" {
		return "api/" + version
	}
	return "apis/" + group + "/" + version
}

// built is what build generates.
type built struct {
	// docs are the documents by index key ("api/v1"), order their keys sorted.
	docs  map[string]*Document
	order []string
	// unmapped are the message fields that mirror no Kubernetes field ("Message.field").
	unmapped []string
}

// build generates the document of every group version of resources.
func build(resources []*scheme.Resource, version string) (*built, error) {
	g := newGenerator()
	names := map[string]kindRef{}
	for _, r := range resources {
		gvk := GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
		names[r.APIVersion()+"/"+r.Kind] = kindRef{
			object: g.kind(r.New(), gvk),
			list:   g.kind(r.NewList(), GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.ListKind}),
			gvk:    gvk,
		}
	}
	// The kinds of subresources.
	for _, k := range []struct {
		m   proto.Message
		gvk GroupVersionKind
	}{
		{&autoscalingv1.Scale{}, GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}},
		{&corev1.Binding{}, GroupVersionKind{Version: "v1", Kind: "Binding"}},
	} {
		key := strings.TrimPrefix(k.gvk.Group+"/"+k.gvk.Version+"/"+k.gvk.Kind, "/")
		names[key] = kindRef{object: g.kind(k.m, k.gvk), gvk: k.gvk}
	}
	deleteOptions := g.goType(reflect.TypeOf(kmetav1.DeleteOptions{}))
	status := g.goType(reflect.TypeOf(kmetav1.Status{}))

	docs := map[string]*Document{}
	var order []string
	for _, r := range resources {
		key := groupVersionPath(r.Group, r.Version)
		d := docs[key]
		if d == nil {
			d = &Document{
				OpenAPI: "3.0.0",
				Info:    Info{Title: "Berth", Version: version},
				Paths:   map[string]*PathItem{},
			}
			docs[key] = d
			order = append(order, key)
		}
		resourcePaths(d.Paths, r, names, deleteOptions, status)
	}
	for _, d := range docs {
		var err error
		if d.Components.Schemas, err = reachable(g.schemas, d.Paths); err != nil {
			return nil, err
		}
	}
	sort.Strings(order)
	return &built{docs: docs, order: order, unmapped: g.unmapped}, nil
}

// reachable returns the schemas the paths refer to, directly or through other schemas. A
// reference to a schema that does not exist is an error.
func reachable(all map[string]*Schema, paths map[string]*PathItem) (map[string]*Schema, error) {
	out := map[string]*Schema{}
	var missing []string
	var visit func(s *Schema)
	visit = func(s *Schema) {
		if s == nil {
			return
		}
		if s.Ref != "" {
			name := strings.TrimPrefix(s.Ref, refPrefix)
			if _, done := out[name]; !done {
				target, ok := all[name]
				if !ok {
					missing = append(missing, name)
					return
				}
				out[name] = target
				visit(target)
			}
		}
		for _, sub := range s.AllOf {
			visit(sub)
		}
		for _, sub := range s.OneOf {
			visit(sub)
		}
		visit(s.Items)
		visit(s.AdditionalProperties)
		for _, p := range s.Properties {
			visit(p)
		}
	}
	for _, p := range paths {
		for _, op := range []*Operation{p.Get, p.Put, p.Post, p.Delete, p.Patch} {
			if op == nil {
				continue
			}
			if op.RequestBody != nil {
				for _, mt := range op.RequestBody.Content {
					visit(mt.Schema)
				}
			}
			for _, resp := range op.Responses {
				for _, mt := range resp.Content {
					visit(mt.Schema)
				}
			}
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("OpenAPI references to missing schemas: %s", strings.Join(missing, ", "))
	}
	return out, nil
}
