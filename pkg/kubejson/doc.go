// Package kubejson owns the codec between Berth's proto messages and Kubernetes' JSON (and
// YAML): the wire format users, kubectl-style clients and the REST gateway speak.
//
// Marshal writes what the Kubernetes apiserver writes: JSON field names (podIP, hostIPC),
// apiVersion and kind on objects and lists, int64 as JSON numbers, IntOrString fields as a
// plain number or string, timestamps in RFC 3339, bytes in base64, empty fields omitted, keys
// sorted. Unmarshal is Kubernetes' strict decoding: unknown and duplicate fields and values of
// the wrong type are errors that name the field's full path ("spec.containers[0].imagee"),
// quantities may be written as numbers, and apiVersion/kind must match the message.
//
// For printing, as kubectl prints: `-o json` is MarshalOptions{Indent: "    "}.Marshal of one
// object or .MarshalList of several (a "kind: List" whose items carry apiVersion and kind);
// `-o yaml` is MarshalYAML or MarshalOptions.MarshalListYAML. The REST face writes Marshal's
// output, and MarshalWatchEvent (or Marshal of a <Kind>WatchEvent) for each watch line.
//
// The codec walks the message descriptors itself rather than going through protojson, so that
// every difference from protojson (number encoding, IntOrString, quantities, error paths) is
// decided in one place.
package kubejson
