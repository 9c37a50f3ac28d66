package repo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dxdata/dx/internal/progress"
)

// recordingReporter records the bars started and what was added to them.
type recordingReporter struct {
	mu     sync.Mutex
	labels []string
	added  int64
	done   int
}

func (r *recordingReporter) Start(label string, total int64, bytes bool) progress.Bar {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.labels = append(r.labels, label)
	return recordingBar{r}
}

type recordingBar struct{ r *recordingReporter }

func (b recordingBar) Add(n int64) { b.r.mu.Lock(); b.r.added += n; b.r.mu.Unlock() }
func (b recordingBar) Done()       { b.r.mu.Lock(); b.r.done++; b.r.mu.Unlock() }

// TestScanProgress: a scan that outlasts its delay counts every entry it
// sees on a bar it ends; a quick one starts none.
func TestScanProgress(t *testing.T) {
	r, dir := newTestRepo(t)
	entries := 0
	for d := range 5 {
		sub := filepath.Join(dir, fmt.Sprintf("d%d", d))
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		entries++
		for f := range 40 {
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%d", f)), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			entries++
		}
	}
	for _, c := range []struct {
		delay time.Duration
		bars  int
	}{{0, 1}, {time.Hour, 0}} {
		rep := &recordingReporter{}
		sc, err := r.newScanner(context.Background(), dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		sc.progress, sc.barDelay = rep, c.delay
		root, err := sc.scan(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := len(fileNodes(root)); got != 200 {
			t.Fatalf("scanned %d files, want 200", got)
		}
		if len(rep.labels) != c.bars || rep.done != c.bars {
			t.Fatalf("delay %v: bars %q, %d done; want %d", c.delay, rep.labels, rep.done, c.bars)
		}
		if c.bars == 1 && (rep.labels[0] != "scanning" || rep.added != int64(entries)) {
			t.Fatalf("bar %q counted %d entries, want %d", rep.labels[0], rep.added, entries)
		}
	}
}
