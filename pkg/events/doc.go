// Package events is the small Event recorder every Berth component uses to report what it did
// to an object ("Scheduled", "SuccessfulCreate", "BackOff", ...). Recording never blocks the
// caller: events go through a bounded queue and are written by Run, and repeats of the same
// event within ten minutes are folded into one Event whose count grows, as Kubernetes does.
package events
