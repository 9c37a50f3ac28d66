package main

// Dropping the page cache before a timed run.

import (
	"fmt"
	"os"
	"sync"
	"syscall"
)

// cacheDropper syncs and drops the page cache before timed operations.
type cacheDropper struct {
	level    int // 0 = never; 1 = page cache; 3 = page cache + dentries/inodes
	mu       sync.Mutex
	ok, fail int
	firstErr string
}

// drop returns whether the caches were dropped.
func (c *cacheDropper) drop() bool {
	syscall.Sync()
	if c.level == 0 {
		return false
	}
	err := os.WriteFile("/proc/sys/vm/drop_caches", []byte(fmt.Sprint(c.level)), 0)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if c.fail == 0 {
			c.firstErr = err.Error()
			logf("  note: cannot drop caches (%v); timings run with warm caches", err)
		}
		c.fail++
		return false
	}
	c.ok++
	return true
}

func (c *cacheDropper) summary() string {
	switch {
	case c.level == 0:
		return "no (disabled with -drop-caches 0); `sync` before every timed run"
	case c.ok == 0 && c.fail == 0:
		return "not attempted"
	case c.fail == 0:
		return fmt.Sprintf("yes: `sync; echo %d > /proc/sys/vm/drop_caches` before every timed run (%d times)", c.level, c.ok)
	case c.ok == 0:
		return fmt.Sprintf("no: %s (only `sync` before timed runs; caches warm)", c.firstErr)
	default:
		return fmt.Sprintf("partly: dropped %d times, failed %d times (%s)", c.ok, c.fail, c.firstErr)
	}
}
