// Package ctl is berthctl: kubectl's verbs (apply, create, get, describe, delete, version)
// and flags over Berth's gRPC API. cmd/berthctl only calls Main; tests run the same commands
// in-process with Run against a real apiserver.
//
// Every verb works on any resource of the scheme through the generic client, so a kind is
// named as kubectl names it (plural, singular, short name: "po", "deploy", "svc", "ns") and
// output goes through package printers. Errors are printed as kubectl prints them
// (`Error from server (NotFound): pods "x" not found`) and make the command exit with 1.
package ctl
