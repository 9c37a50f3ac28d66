package main

import (
	"runtime"
	"testing"
	"time"
)

// TestWaitDiskIdle: the disks' counters are read on Linux, and with
// nothing being removed the wait ends after its quiet period.
func TestWaitDiskIdle(t *testing.T) {
	if runtime.GOOS != "linux" {
		return
	}
	if _, _, ok := diskActivity(); !ok {
		t.Fatal("cannot read /proc/diskstats")
	}
	start := time.Now()
	waitDiskIdle()
	if d := time.Since(start); d < diskIdleQuiet {
		t.Fatalf("waited %v, less than the quiet period %v", d, diskIdleQuiet)
	}
}
