// Package table owns the gateway's Table responses: when a get, list or watch asks for
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` (as kubectl get does), the answer is
// a meta.k8s.io `Table` with the columns Kubernetes defines for that kind (NAME READY STATUS
// RESTARTS AGE for Pods, ...), one row per object with typed cells, and each row's object as
// PartialObjectMetadata, the full object (includeObject=Object) or nothing (None).
//
// The cells come from pkg/printers, the same column logic berthctl prints with; this package
// adds what the wire needs: Kubernetes' column names, types, descriptions and priorities
// (priority 1 is what `-o wide` adds), integer cells as JSON numbers, and the table metadata.
//
// The gateway core calls Negotiate on each GET; when it returns Options, the core fetches the
// objects through the gRPC API as usual and answers with WriteObject or WriteList, or, for a
// watch, encodes each event with a WatchEncoder (column definitions on the first event only,
// as the Kubernetes apiserver does).
package table
