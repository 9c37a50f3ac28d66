package store

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// warmWorkers is how many value log headers warmValueLogs reads at once.
const warmWorkers = 32

// warmValueLogs reads the first page of each of the index's value log
// files, many at once, before badger opens them: badger opens them one
// after the other and reads each one's header through its mapping, so
// that from a cold cache each open waited for a read of its own (an
// index with hundreds of value logs paid for them on every command). An
// error is left for badger's open to meet.
func warmValueLogs(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	names := make(chan string)
	var wg sync.WaitGroup
	for range warmWorkers {
		wg.Go(func() {
			var page [4096]byte
			for name := range names {
				if f, err := os.Open(filepath.Join(dir, name)); err == nil {
					_, _ = f.ReadAt(page[:], 0)
					f.Close()
				}
			}
		})
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".vlog") {
			names <- e.Name()
		}
	}
	close(names)
	wg.Wait()
}
