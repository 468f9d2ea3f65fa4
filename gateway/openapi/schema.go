package openapi

// Schema is the subset of an OpenAPI v3 schema object the gateway writes.
type Schema struct {
	Ref                  string             `json:"$ref,omitempty"`
	Description          string             `json:"description,omitempty"`
	Type                 string             `json:"type,omitempty"`
	Format               string             `json:"format,omitempty"`
	AllOf                []*Schema          `json:"allOf,omitempty"`
	OneOf                []*Schema          `json:"oneOf,omitempty"`
	Items                *Schema            `json:"items,omitempty"`
	Properties           map[string]*Schema `json:"properties,omitempty"`
	AdditionalProperties *Schema            `json:"additionalProperties,omitempty"`
	Required             []string           `json:"required,omitempty"`
	Enum                 []string           `json:"enum,omitempty"`
	UniqueItems          bool               `json:"uniqueItems,omitempty"`

	GroupVersionKind      []GroupVersionKind `json:"x-kubernetes-group-version-kind,omitempty"`
	IntOrString           bool               `json:"x-kubernetes-int-or-string,omitempty"`
	PreserveUnknownFields bool               `json:"x-kubernetes-preserve-unknown-fields,omitempty"`
	PatchStrategy         string             `json:"x-kubernetes-patch-strategy,omitempty"`
	PatchMergeKey         string             `json:"x-kubernetes-patch-merge-key,omitempty"`
	EmbeddedResource      bool               `json:"x-kubernetes-embedded-resource,omitempty"`
	ListType              string             `json:"x-kubernetes-list-type,omitempty"`
	MapType               string             `json:"x-kubernetes-map-type,omitempty"`
	Default               any                `json:"default,omitempty"`
}

// GroupVersionKind is the value of x-kubernetes-group-version-kind.
type GroupVersionKind struct {
	Group   string `json:"group"`
	Kind    string `json:"kind"`
	Version string `json:"version"`
}

// refPrefix is where a document's schemas live.
const refPrefix = "#/components/schemas/"

// ref is a reference to the named schema, wrapped in allOf as Kubernetes writes it so that
// the referring field can carry its own description.
func ref(name, description string) *Schema {
	return &Schema{AllOf: []*Schema{{Ref: refPrefix + name}}, Description: description}
}

// The names of the schemas Kubernetes writes specially.
const (
	timeName        = "io.k8s.apimachinery.pkg.apis.meta.v1.Time"
	microTimeName   = "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"
	quantityName    = "io.k8s.apimachinery.pkg.api.resource.Quantity"
	intOrStringName = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
	patchName       = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
)

// wellKnown are the schemas of types whose JSON is a scalar, as the Kubernetes apiserver
// publishes them in OpenAPI v3.
func wellKnown() map[string]*Schema {
	return map[string]*Schema{
		timeName: {
			Type: "string", Format: "date-time",
			Description: "Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.  Wrappers are provided for many of the factory methods that the time package offers.",
		},
		microTimeName: {
			Type: "string", Format: "date-time",
			Description: "MicroTime is version of Time with microsecond level precision.",
		},
		quantityName: {
			OneOf: []*Schema{{Type: "string"}, {Type: "number"}},
			Description: "Quantity is a fixed-point representation of a number. It provides convenient marshaling/unmarshaling in JSON and YAML, in addition to String() and AsInt64() accessors.\n\n" +
				"The serialization format is:\n\n```\n<quantity>        ::= <signedNumber><suffix>\n```\n\n" +
				"Examples: 100m (0.1 CPU), 128Mi, 1Gi, 2, 1.5, 500M.",
		},
		intOrStringName: {
			OneOf:       []*Schema{{Type: "integer"}, {Type: "string"}},
			Format:      "int-or-string",
			IntOrString: true,
			Description: "IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.",
		},
		patchName: {
			Type:        "object",
			Description: "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.",
		},
	}
}
