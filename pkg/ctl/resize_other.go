//go:build !unix

package ctl

// watchResize does nothing where terminals do not signal their resizes.
func watchResize(int, func(w, h int)) (stop func()) { return func() {} }
