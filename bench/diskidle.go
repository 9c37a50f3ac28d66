package main

// Waiting for the disks to go idle before a timed run.

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// diskIdleQuiet is how long the disks' counters must stay still.
const diskIdleQuiet = 200 * time.Millisecond

// diskIdleMax bounds one wait.
const diskIdleMax = 30 * time.Second

// diskActivity sums, over the whole disks in /proc/diskstats, the
// discards completed and the requests in flight; ok is false where the
// file cannot be read. On a file system mounted with discard, the
// discards of a big removal run on after sync returns and slow a run
// timed meanwhile. Writes are not counted: a MinIO left running for the
// remote rows writes now and then.
func diskActivity() (sum uint64, inFlight uint64, ok bool) {
	b, err := os.ReadFile("/proc/diskstats")
	if err != nil {
		return 0, 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		// major minor name, then reads (4 fields), writes (4), in
		// flight, io ticks, time in queue, discards (4), flushes (2).
		if len(f) < 14 || !wholeDisk(f[2]) {
			continue
		}
		n := func(i int) uint64 {
			if i >= len(f) {
				return 0
			}
			v, _ := strconv.ParseUint(f[i], 10, 64)
			return v
		}
		sum += n(14)
		inFlight += n(11)
	}
	return sum, inFlight, true
}

// wholeDisk reports whether a diskstats name is a disk the bench may
// write to, not a partition, loop or RAM device.
func wholeDisk(name string) bool {
	if strings.HasPrefix(name, "loop") || strings.HasPrefix(name, "ram") || strings.HasPrefix(name, "zram") {
		return false
	}
	_, err := os.Stat("/sys/block/" + name)
	return err == nil
}

// waitDiskIdle waits until no discard has completed and no request was
// in flight for diskIdleQuiet (at most diskIdleMax), and returns how long
// it waited beyond that quiet period.
func waitDiskIdle() time.Duration {
	start := time.Now()
	last, inFlight, ok := diskActivity()
	if !ok {
		return 0
	}
	still := time.Now()
	for time.Since(start) < diskIdleMax {
		time.Sleep(20 * time.Millisecond)
		cur, fl, _ := diskActivity()
		if cur != last || fl != 0 || inFlight != 0 {
			last, inFlight, still = cur, fl, time.Now()
			continue
		}
		if time.Since(still) >= diskIdleQuiet {
			break
		}
	}
	return max(0, time.Since(start)-diskIdleQuiet)
}
