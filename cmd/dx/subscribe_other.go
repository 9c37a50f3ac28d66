//go:build !unix

package main

// notifyRetry has no signal to listen for here.
func notifyRetry(retry chan<- struct{}) (stop func()) { return func() {} }
