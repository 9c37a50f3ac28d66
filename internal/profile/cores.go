package profile

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// onCores calls fn(w, i) for every i in [0, n), on all cores: w is the
// calling worker's number (below the number of workers, for state of its
// own). A worker whose fn returns false takes no more.
func onCores(n int, fn func(w, i int) bool) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers(n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || !fn(w, i) {
					return
				}
			}
		})
	}
	wg.Wait()
}

// workers is how many workers onCores runs for n calls.
func workers(n int) int { return max(1, min(runtime.GOMAXPROCS(0), n)) }
