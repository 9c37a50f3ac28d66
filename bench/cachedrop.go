package main

// Dropping the page cache before a timed run.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// cacheDropper syncs, waits for the disks to go idle and drops the page
// cache before timed operations.
type cacheDropper struct {
	level    int // 0 = never; 1 = page cache; 3 = page cache + dentries/inodes
	mu       sync.Mutex
	ok, fail int
	firstErr string
	// The waits for dx's detached frees of replaced files (see settle).
	waits   int
	waitMax time.Duration
	// The waits for the disks to go idle after sync (waitDiskIdle).
	idleWaits int
	idleMax   time.Duration
}

// drop returns whether the caches were dropped.
func (c *cacheDropper) drop() bool {
	c.settle()
	syscall.Sync()
	if d := waitDiskIdle(); d > 100*time.Millisecond {
		c.mu.Lock()
		c.idleWaits++
		c.idleMax = max(c.idleMax, d)
		c.mu.Unlock()
	}
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

// settle waits (up to a minute) until no dx started by an earlier command
// to free the big files it replaced (dx debug empty-trash, detached) is
// running: as sync does for its writes, so that a timed run does not share
// the disk with the one before it.
func (c *cacheDropper) settle() {
	start := time.Now()
	for freeing() && time.Since(start) < time.Minute {
		time.Sleep(5 * time.Millisecond)
	}
	if d := time.Since(start); d > 5*time.Millisecond {
		c.mu.Lock()
		c.waits++
		c.waitMax = max(c.waitMax, d)
		c.mu.Unlock()
	}
}

// freeing reports whether a dx debug empty-trash is running.
func freeing() bool {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if args := strings.Split(string(b), "\x00"); len(args) > 3 && args[1] == "debug" && args[2] == "empty-trash" {
			return true
		}
	}
	return false
}

func (c *cacheDropper) summary() string {
	return c.dropSummary() + c.settleSummary()
}

func (c *cacheDropper) settleSummary() string {
	s := ""
	if c.waits > 0 {
		s = fmt.Sprintf("; before %d of them, waited for dx's detached free of the files a command replaced to finish (at most %.2f s after the next run was due)", c.waits, c.waitMax.Seconds())
	}
	if c.idleWaits > 0 {
		s += fmt.Sprintf("; after the sync before %d of them, waited for the disks' discards to stop (at most %.2f s)", c.idleWaits, c.idleMax.Seconds())
	}
	return s
}

func (c *cacheDropper) dropSummary() string {
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
