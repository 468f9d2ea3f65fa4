// Package controllertest holds what the integration tests of Berth's controllers share: a
// real apiserver on embedded etcd with a client to it, a controller run until the test ends,
// polling with a deadline, and the node agent's part, played by the test, for the Pods that
// must be Running and Ready (there is no agent in these tests).
package controllertest
