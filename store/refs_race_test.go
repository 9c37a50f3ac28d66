package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dxdata/dx/dag"
)

// TestTransactionCASConcurrent: many goroutines move one ref from the same
// old value at once; exactly one wins, the rest fail with ErrRefChanged
// (badger's conflict detection), and the reflog records the one move.
func TestTransactionCASConcurrent(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	base := commitFile(t, s, "refs/heads/main", "a", []byte("base"), dag.ZeroID)
	const n = 16
	var targets [n]dag.ID
	for i := range targets {
		c := &dag.Commit{Tree: base, Generation: 2, Author: "t", Message: string(rune('a' + i)), Time: time.Unix(1700000000, 0).UTC(), Parents: []dag.ID{base}}
		enc, err := c.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if targets[i], err = s.Put(ctx, dag.KindCommit, enc); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for round := range 20 {
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = s.Transaction(ctx, []RefUpdate{{Name: "refs/heads/main", Old: base, New: targets[i]}}, nil, "race")
			}()
		}
		close(start)
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won >= 0:
				t.Fatalf("round %d: both %d and %d moved main from the same old value", round, won, i)
			case err == nil:
				won = i
			case !errors.Is(err, ErrRefChanged):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if won < 0 {
			t.Fatalf("round %d: no move won", round)
		}
		if id, err := s.Ref(ctx, "refs/heads/main"); err != nil || id != targets[won] {
			t.Fatalf("round %d: main = %s, %v; want the winner's %s", round, id.Short(), err, targets[won].Short())
		}
		// Back to base for the next round.
		if err := s.Transaction(ctx, []RefUpdate{{Name: "refs/heads/main", Old: targets[won], New: base}}, nil, "reset"); err != nil {
			t.Fatal(err)
		}
	}
	log, err := s.Reflog(ctx, "refs/heads/main")
	if err != nil || len(log) != 1+2*20 {
		t.Fatalf("reflog: %v, %d entries, want %d", err, len(log), 1+2*20)
	}
}
