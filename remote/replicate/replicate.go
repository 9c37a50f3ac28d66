package replicate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/progress"
	"github.com/dxdata/dx/remote"
)

var (
	// ErrDiverged: a destination ref moved on its own and was left as it
	// was.
	ErrDiverged = errors.New("diverged")
	// ErrUnknownRef: a ref asked for is not on the source.
	ErrUnknownRef = errors.New("unknown ref")
)

// Options say what to replicate and how.
type Options struct {
	// Refs are the branches, tags or models to replicate (short or full
	// names). Empty: every branch, and with All every tag and model too.
	Refs []string
	All  bool
	// Parallel is the number of packs copied at once; default 4.
	Parallel int
	Progress progress.Reporter
	// SrcCache and DstCache hold each remote's pack indexes between runs
	// (as push caches them); empty: a temporary directory.
	SrcCache, DstCache string
	// TempDir is where metadata packs wait between their check and their
	// copy; empty: the system's.
	TempDir string
	// Now stamps the events; default time.Now.
	Now func() time.Time
}

// Validate checks the options.
func (o Options) Validate() error {
	if o.All && len(o.Refs) > 0 {
		return errors.New("replicate: --all and ref names exclude each other")
	}
	if o.Parallel < 0 {
		return fmt.Errorf("replicate: parallel %d is negative", o.Parallel)
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.Parallel == 0 {
		o.Parallel = 4
	}
	if o.Progress == nil {
		o.Progress = progress.Nop{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Result says what a replication did.
type Result struct {
	Refs []RefResult `json:"refs"`
	// Packs and Indexes are the objects written to the destination
	// (a pack an interrupted run completed is not written again, but its
	// index is); Objects are the objects in the indexes written.
	Packs      int   `json:"packs"`
	Indexes    int   `json:"indexes"`
	Objects    int   `json:"objects"`
	PackBytes  int64 `json:"pack_bytes"`
	IndexBytes int64 `json:"index_bytes"`
	// Src and Dst count the requests made to each remote.
	Src remote.Requests `json:"src"`
	Dst remote.Requests `json:"dst"`
}

// Replicate copies to dst what the chosen refs of src need that dst
// lacks, then moves dst's refs (see the package comment for the order
// and what a crash leaves). A ref that diverged on dst is left as it was
// and reported, and the error wraps ErrDiverged; the other refs move.
// The Result comes with no error or that one; any other error stops the
// run (rerun it) and comes alone.
func Replicate(ctx context.Context, src, dst remote.Backend, o Options) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	csrc, cdst := remote.NewCounting(src), remote.NewCounting(dst)
	res := &Result{}
	err := replicate(ctx, csrc, cdst, o, res)
	if err != nil {
		return nil, err
	}
	res.Src, res.Dst = csrc.Snapshot(), cdst.Snapshot()
	return res, diverged(dst, res.Refs)
}

func replicate(ctx context.Context, src, dst remote.Backend, o Options, res *Result) error {
	// 1. Read the refs on both sides: all a run with nothing new costs.
	srcRefs, err := selectRefs(ctx, src, o.Refs, o.All)
	if err != nil {
		return err
	}
	refs, err := readDst(ctx, dst, srcRefs)
	if err != nil {
		return err
	}
	res.Refs = refs
	pending := false
	for _, rr := range refs {
		pending = pending || rr.Status != UpToDate
	}
	if !pending {
		return nil
	}
	// 2. Learn what each side holds, both sides at once; sort the refs
	// that differ.
	tmp, err := tempDir(o.TempDir)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var srcIx, dstIx *remote.Index
	err = both(func() error {
		if err := remote.CheckFormat(ctx, src); err != nil {
			return err
		}
		ix, err := loadIndex(ctx, src, o.SrcCache, tmp, "src")
		srcIx = ix
		return err
	}, func() error {
		if err := remote.CheckFormat(ctx, dst); err != nil {
			return err
		}
		ix, err := loadIndex(ctx, dst, o.DstCache, tmp, "dst")
		dstIx = ix
		return err
	})
	if err != nil {
		return err
	}
	srcObjs := &objects{be: src, ix: srcIx}
	var roots []dag.ID
	for i := range res.Refs {
		rr := &res.Refs[i]
		if rr.Status == UpToDate {
			continue
		}
		if rr.Status != Created {
			if err := classify(ctx, srcObjs, rr); err != nil {
				return err
			}
		}
		if rr.Status == Created || rr.Status == Updated {
			if l, ok := srcIx.Lookup(rr.New); !ok || l.Entry.Kind != rr.kind {
				return fmt.Errorf("%s: %s names %s %s, which it does not hold (a damaged remote): %w", src, rr.Name, rr.kind, rr.New.Short(), remote.ErrIntegrity)
			}
			roots = append(roots, rr.New)
		}
	}
	var cut []dag.ID
	if len(roots) > 0 {
		if cut, err = copyPacks(ctx, src, dst, srcIx, dstIx, tmp, roots, o, res); err != nil {
			return err
		}
	}
	if !moved(res) {
		return nil
	}
	// 4. Move the refs, each by compare-and-swap, and tell subscribers.
	if err := remote.EnsureFormat(ctx, dst); err != nil {
		return err
	}
	if err := remote.AddShallow(ctx, dst, cut); err != nil {
		return err
	}
	if len(roots) > 0 {
		if err := dstIx.CheckWindow(ctx, dst); err != nil {
			return err
		}
	}
	return moveRefs(ctx, dst, res.Refs, o.Now)
}

// copyPacks copies the packs that roots need and dst lacks, each as soon
// as the planner finds it, then the metadata packs' indexes in order; it
// returns the commits whose history the source cut (shallow there), for
// dst's shallow list.
func copyPacks(ctx context.Context, src, dst remote.Backend, srcIx, dstIx *remote.Index, tmp string, roots []dag.ID, o Options, res *Result) ([]dag.ID, error) {
	pl, err := newPlanner(ctx, src, dst, srcIx, dstIx, tmp, o.Parallel)
	if err != nil {
		return nil, err
	}
	c := &copier{src: src, dst: dst, dstIx: dstIx, parallel: o.Parallel, bar: o.Progress.Start("replicate", 0, true)}
	// Each source pack is planned at most once: the queue never fills.
	c.start(ctx, len(pl.srcSizes)+1)
	pl.planned = c.add
	packs, err := pl.plan(ctx, roots)
	if err == nil {
		err = c.finish(ctx, order(packs))
	} else {
		c.abort()
	}
	c.bar.Done()
	res.Packs, res.Indexes, res.Objects = int(c.packs.Load()), int(c.indexes.Load()), int(c.objects.Load())
	res.PackBytes, res.IndexBytes = c.packBytes.Load(), c.indexBytes.Load()
	if err != nil {
		return nil, err
	}
	return pl.cut, nil
}

// both runs f and g at once and returns f's error, else g's.
func both(f, g func() error) error {
	gerr := make(chan error, 1)
	go func() { gerr <- g() }()
	ferr := f()
	return cmp.Or(ferr, <-gerr)
}

// loadIndex loads a remote's indexes through cache, or a fresh directory
// under tmp: the destination's to write.
func loadIndex(ctx context.Context, be remote.Backend, cache, tmp, side string) (*remote.Index, error) {
	if cache == "" {
		cache = tmp + "/" + side + "-index"
	}
	if side == "dst" {
		return remote.LoadIndexToWrite(ctx, be, cache)
	}
	return remote.LoadIndex(ctx, be, cache)
}

// moveRefs swaps each created, updated or deleted ref from the value read
// at the start; a ref that moved meanwhile becomes diverged.
func moveRefs(ctx context.Context, dst remote.Backend, refs []RefResult, now func() time.Time) error {
	for i := range refs {
		rr := &refs[i]
		if rr.Status != Created && rr.Status != Updated && rr.Status != Deleted {
			continue
		}
		var err error
		if rr.Status == Deleted {
			// DeleteRef writes its own event.
			err = remote.DeleteRef(ctx, dst, remote.Ref{Name: rr.Name, ID: rr.Old, Tag: rr.tag})
		} else {
			_, err = remote.SwapRef(ctx, dst, rr.Name, rr.tag, rr.New)
		}
		if errors.Is(err, remote.ErrPrecondition) {
			// A retried request can report a write that landed as
			// lost: the ref says which.
			cur, rerr := remote.ReadRef(ctx, dst, rr.Name)
			if rerr != nil {
				return rerr
			}
			if cur.ID != rr.New {
				rr.Status, rr.Reason = Diverged, "it moved on the destination during the replication"
				continue
			}
			err = nil
		}
		if err != nil {
			return err
		}
		if rr.Status == Deleted {
			continue
		}
		// The ref is the truth; a lost event delays no subscriber that
		// reads refs, so its error does not fail the replication.
		_, _ = remote.PutEvent(ctx, dst, remote.Event{Ref: rr.Name, Old: rr.Old, New: rr.New, Time: now().UTC()})
	}
	return nil
}

// diverged is the error naming the refs left as they were, if any.
func diverged(dst remote.Backend, refs []RefResult) error {
	var names []string
	for _, rr := range refs {
		if rr.Status == Diverged {
			names = append(names, shortName(rr.Name))
		}
	}
	switch len(names) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%s: %s moved on its own there and was not overwritten: %w", dst, names[0], ErrDiverged)
	}
	return fmt.Errorf("%s: %d refs moved on their own there and were not overwritten (%s): %w", dst, len(names), strings.Join(names, ", "), ErrDiverged)
}

// shortName drops refs/heads/ from a branch's name.
func shortName(ref string) string { return strings.TrimPrefix(ref, headsPrefix) }
