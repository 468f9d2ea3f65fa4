package openapi

import (
	"strings"

	"github.com/berth-dev/berth/gateway/internal/subresource"
	"github.com/berth-dev/berth/pkg/scheme"
)

// PathItem is the operations on one path.
type PathItem struct {
	Description string       `json:"description,omitempty"`
	Parameters  []*Parameter `json:"parameters,omitempty"`
	Get         *Operation   `json:"get,omitempty"`
	Put         *Operation   `json:"put,omitempty"`
	Post        *Operation   `json:"post,omitempty"`
	Delete      *Operation   `json:"delete,omitempty"`
	Patch       *Operation   `json:"patch,omitempty"`
}

// Operation is one HTTP method on a path, with Kubernetes' extensions: the action (get,
// list, post, put, patch, delete) and the kind it acts on.
type Operation struct {
	Description      string               `json:"description,omitempty"`
	OperationID      string               `json:"operationId"`
	Tags             []string             `json:"tags,omitempty"`
	Parameters       []*Parameter         `json:"parameters,omitempty"`
	RequestBody      *RequestBody         `json:"requestBody,omitempty"`
	Responses        map[string]*Response `json:"responses"`
	Action           string               `json:"x-kubernetes-action"`
	GroupVersionKind *GroupVersionKind    `json:"x-kubernetes-group-version-kind,omitempty"`
}

// Parameter is one path or query parameter.
type Parameter struct {
	Name        string  `json:"name"`
	In          string  `json:"in"`
	Description string  `json:"description,omitempty"`
	Required    bool    `json:"required,omitempty"`
	Schema      *Schema `json:"schema"`
}

// RequestBody is an operation's body.
type RequestBody struct {
	Content  map[string]*MediaType `json:"content"`
	Required bool                  `json:"required,omitempty"`
}

// MediaType is the schema of a body in one content type.
type MediaType struct {
	Schema *Schema `json:"schema"`
}

// Response is one response of an operation.
type Response struct {
	Description string                `json:"description"`
	Content     map[string]*MediaType `json:"content,omitempty"`
}

func stringParam(name, in, desc string) *Parameter {
	return &Parameter{Name: name, In: in, Description: desc, Required: in == "path", Schema: &Schema{Type: "string", UniqueItems: true}}
}

func intParam(name, desc string) *Parameter {
	return &Parameter{Name: name, In: "query", Description: desc, Schema: &Schema{Type: "integer", UniqueItems: true}}
}

func boolParam(name, desc string) *Parameter {
	return &Parameter{Name: name, In: "query", Description: desc, Schema: &Schema{Type: "boolean", UniqueItems: true}}
}

// The parameters of Kubernetes' operations, with Kubernetes' descriptions shortened.
var (
	pathName      = stringParam("name", "path", "name of the object")
	pathNamespace = stringParam("namespace", "path", "object name and auth scope, such as for teams and projects")
	pretty        = stringParam("pretty", "query", "If 'true', then the output is pretty printed.")
	dryRun        = stringParam("dryRun", "query", "When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed")
	fieldManager  = stringParam("fieldManager", "query", "fieldManager is a name associated with the actor or entity that is making these changes.")
	// fieldValidation on a PATCH operation is what tells kubectl that the server validates
	// fields itself (kubectl's QueryParamVerifierV3).
	fieldValidation = stringParam("fieldValidation", "query", "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.")
	force           = boolParam("force", "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.")
	listParams      = []*Parameter{
		boolParam("allowWatchBookmarks", "allowWatchBookmarks requests watch events with type \"BOOKMARK\"."),
		stringParam("continue", "query", "The continue option should be set when retrieving more results from the server."),
		stringParam("fieldSelector", "query", "A selector to restrict the list of returned objects by their fields. Defaults to everything."),
		stringParam("labelSelector", "query", "A selector to restrict the list of returned objects by their labels. Defaults to everything."),
		intParam("limit", "limit is a maximum number of responses to return for a list call."),
		stringParam("resourceVersion", "query", "resourceVersion sets a constraint on what resource versions a request may be served from."),
		stringParam("resourceVersionMatch", "query", "resourceVersionMatch determines how resourceVersion is applied to list calls."),
		intParam("timeoutSeconds", "Timeout for the list/watch call."),
		boolParam("watch", "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications."),
	}
	deleteParams = []*Parameter{
		dryRun,
		intParam("gracePeriodSeconds", "The duration in seconds before the object should be deleted."),
		stringParam("propagationPolicy", "query", "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'."),
	}
	writeParams = []*Parameter{dryRun, fieldManager, fieldValidation}
	patchParams = []*Parameter{dryRun, fieldManager, fieldValidation, force}
)

// patchContentTypes are the patch formats the gateway accepts.
var patchContentTypes = []string{
	"application/apply-patch+yaml",
	"application/json-patch+json",
	"application/merge-patch+json",
	"application/strategic-merge-patch+json",
}

func jsonContent(s *Schema) map[string]*MediaType {
	return map[string]*MediaType{"application/json": {Schema: s}}
}

func okResponse(code, desc string, s *Schema) map[string]*Response {
	return map[string]*Response{code: {Description: desc, Content: jsonContent(s)}, "401": {Description: "Unauthorized"}}
}

func schemaRef(name string) *Schema { return &Schema{Ref: refPrefix + name} }

// operationGroup is the group's part of an operationId: "Core", "Apps", "Coordination".
func operationGroup(group string) string {
	if group == "" {
		return "Core"
	}
	first, _, _ := strings.Cut(group, ".")
	return strings.ToUpper(first[:1]) + first[1:]
}

// tag is the group version's operation tag: "core_v1", "apps_v1", "coordination_v1".
func tag(group, version string) string {
	return strings.ToLower(operationGroup(group)) + "_" + version
}

// kindRef names the schemas of one kind: the object's, the list's, and the GVK.
type kindRef struct {
	object, list string
	gvk          GroupVersionKind
}

// resourcePaths adds the paths of resource r to paths. names gives the schema names of r's
// kind and of its subresources' kinds (by "group/version/Kind").
func resourcePaths(paths map[string]*PathItem, r *scheme.Resource, names map[string]kindRef, deleteOptions, status string) {
	prefix := "/api/" + r.Version
	if r.Group != "" {
		prefix = "/apis/" + r.Group + "/" + r.Version
	}
	k := names[r.APIVersion()+"/"+r.Kind]
	gvk := &k.gvk
	opGroup := operationGroup(r.Group) + strings.ToUpper(r.Version[:1]) + r.Version[1:]
	scope := ""
	common := []*Parameter{pretty}
	collection := prefix + "/" + r.Plural
	if r.Namespaced {
		scope = "Namespaced"
		collection = prefix + "/namespaces/{namespace}/" + r.Plural
		common = []*Parameter{pathNamespace, pretty}
	}
	tags := []string{tag(r.Group, r.Version)}
	op := func(verb, action, desc, suffix string) *Operation {
		return &Operation{
			Description: desc, OperationID: verb + opGroup + scope + r.Kind + suffix, Tags: tags,
			Action: action, GroupVersionKind: gvk,
		}
	}

	list := op("list", "list", "list or watch objects of kind "+r.Kind, "")
	list.Parameters = listParams
	list.Responses = okResponse("200", "OK", schemaRef(k.list))
	list.Responses["200"].Content["application/json;stream=watch"] = &MediaType{Schema: schemaRef(k.list)}
	create := op("create", "post", "create a "+r.Kind, "")
	create.Parameters = writeParams
	create.RequestBody = &RequestBody{Content: jsonContent(schemaRef(k.object)), Required: true}
	create.Responses = okResponse("200", "OK", schemaRef(k.object))
	create.Responses["201"] = &Response{Description: "Created", Content: jsonContent(schemaRef(k.object))}
	paths[collection] = &PathItem{Parameters: common, Get: list, Post: create}

	if r.Namespaced {
		all := op("list", "list", "list or watch objects of kind "+r.Kind, "ForAllNamespaces")
		all.OperationID = "list" + opGroup + r.Kind + "ForAllNamespaces"
		all.Parameters = listParams
		all.Responses = okResponse("200", "OK", schemaRef(k.list))
		paths[prefix+"/"+r.Plural] = &PathItem{Parameters: []*Parameter{pretty}, Get: all}
	}

	item := collection + "/{name}"
	itemParams := append([]*Parameter{pathName}, common...)
	read := op("read", "get", "read the specified "+r.Kind, "")
	read.Responses = okResponse("200", "OK", schemaRef(k.object))
	replace := op("replace", "put", "replace the specified "+r.Kind, "")
	replace.Parameters = writeParams
	replace.RequestBody = &RequestBody{Content: jsonContent(schemaRef(k.object)), Required: true}
	replace.Responses = okResponse("200", "OK", schemaRef(k.object))
	patch := patchOp(op("patch", "patch", "partially update the specified "+r.Kind, ""), schemaRef(k.object))
	del := op("delete", "delete", "delete a "+r.Kind, "")
	del.Parameters = deleteParams
	del.RequestBody = &RequestBody{Content: jsonContent(schemaRef(deleteOptions))}
	del.Responses = okResponse("200", "OK", schemaRef(k.object))
	del.Responses["202"] = &Response{Description: "Accepted", Content: jsonContent(schemaRef(status))}
	paths[item] = &PathItem{Parameters: itemParams, Get: read, Put: replace, Patch: patch, Delete: del}

	for _, s := range subresource.Of(r) {
		sk, ok := names[strings.TrimPrefix(s.Group+"/"+s.Version+"/"+s.Kind, "/")]
		if !ok || s.Name == "log" {
			continue // left out: a subresource whose kind has no schema (exec), or that serves text (log)
		}
		sgvk := &sk.gvk
		suffix := strings.ToUpper(s.Name[:1]) + s.Name[1:]
		subPath := &PathItem{Parameters: itemParams}
		for _, verb := range s.Verbs {
			switch verb {
			case "get":
				o := op("read", "get", "read "+s.Name+" of the specified "+r.Kind, suffix)
				o.GroupVersionKind = sgvk
				o.Responses = okResponse("200", "OK", schemaRef(sk.object))
				subPath.Get = o
			case "update":
				o := op("replace", "put", "replace "+s.Name+" of the specified "+r.Kind, suffix)
				o.GroupVersionKind = sgvk
				o.Parameters = writeParams
				o.RequestBody = &RequestBody{Content: jsonContent(schemaRef(sk.object)), Required: true}
				o.Responses = okResponse("200", "OK", schemaRef(sk.object))
				subPath.Put = o
			case "patch":
				o := patchOp(op("patch", "patch", "partially update "+s.Name+" of the specified "+r.Kind, suffix), schemaRef(sk.object))
				o.GroupVersionKind = sgvk
				subPath.Patch = o
			case "create":
				o := op("create", "post", "create "+s.Name+" of a "+r.Kind, suffix)
				o.GroupVersionKind = sgvk
				o.Parameters = writeParams
				o.RequestBody = &RequestBody{Content: jsonContent(schemaRef(sk.object)), Required: true}
				o.Responses = okResponse("200", "OK", schemaRef(sk.object))
				o.Responses["201"] = &Response{Description: "Created", Content: jsonContent(schemaRef(sk.object))}
				subPath.Post = o
			}
		}
		paths[item+"/"+s.Name] = subPath
	}
}

// patchOp completes a PATCH operation: the patch formats as request bodies, the patch query
// parameters (fieldValidation among them), and the object as the response.
func patchOp(o *Operation, object *Schema) *Operation {
	o.Parameters = patchParams
	body := &RequestBody{Content: map[string]*MediaType{}, Required: true}
	for _, ct := range patchContentTypes {
		body.Content[ct] = &MediaType{Schema: schemaRef(patchName)}
	}
	o.RequestBody = body
	o.Responses = okResponse("200", "OK", object)
	o.Responses["201"] = &Response{Description: "Created", Content: jsonContent(object)}
	return o
}
