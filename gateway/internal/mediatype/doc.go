// Package mediatype owns the parsing of HTTP Accept headers for the gateway's hand-written
// handlers: the media ranges a client lists, their parameters (as=Table;g=meta.k8s.io;v=v1)
// and their order of preference.
package mediatype
