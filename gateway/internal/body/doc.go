// Package body owns how the gateway reads the body of a write request, as the Kubernetes
// apiserver reads it: at most MaxBytes (a larger body is 413 RequestEntityTooLarge), JSON or
// YAML only (another Content-Type is 415), decoded strictly into the proto message the path
// names. The fieldValidation query parameter decides what unknown and duplicate fields do:
// Strict rejects them (400), Warn (the default) drops them and reports each one as a
// `Warning: 299 - "unknown field \"spec.foo\""` response header, Ignore drops them silently.
// Every other decoding problem (malformed JSON, a value of the wrong type, a kind that is not
// the path's) is a 400 BadRequest Status; nothing a client sends here is ever a 500.
package body
