//go:build unix

package main

import (
	"os"
	"os/signal"
	"syscall"
)

// notifyRetry turns SIGUSR1 (sent by dx subscribe --retry) into a request
// on retry, until stop.
func notifyRetry(retry chan<- struct{}) (stop func()) {
	sigs := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(sigs, syscall.SIGUSR1)
	go func() {
		for {
			select {
			case <-sigs:
				select {
				case retry <- struct{}{}:
				default:
				}
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(sigs); close(done) }
}
