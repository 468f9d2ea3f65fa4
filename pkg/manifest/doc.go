// Package manifest reads Kubernetes manifests as kubectl reads them for `apply -f`: files,
// directories (optionally recursive) and standard input; multi-document YAML split at "---"
// lines, streams of JSON objects, and "kind: List" documents expanded into their items. Every
// object keeps where it came from (file, document, line) so that errors, here and later when
// the object is applied, can point at it. Objects are decoded strictly by pkg/kubejson.
package manifest
