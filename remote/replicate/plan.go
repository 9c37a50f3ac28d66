package replicate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/store/pack"
)

// packPlan is one source pack to copy.
type packPlan struct {
	id      dag.ID
	footer  []byte
	entries []pack.Entry
	size    int64
	// meta: the pack holds objects that name others (anything but
	// chunks). Its objects were read while planning, into file.
	meta bool
	ids  map[dag.ID]bool // a metadata pack's objects
	file string
	// deps are the other metadata packs whose indexes must be on the
	// destination before this one's.
	deps map[dag.ID]bool
	// onDst: an interrupted run completed the pack on the destination;
	// only its index is missing.
	onDst bool
}

// planner finds the source packs the destination lacks for a set of
// roots: the packs holding the objects not on the destination, and, as a
// copied pack brings all its objects, those every object in a copied
// metadata pack names. It reads the metadata packs it needs (verified)
// into temporary files, from which they are copied afterwards.
type planner struct {
	src, dst     remote.Backend
	srcIx, dstIx *remote.Index
	srcSizes     map[dag.ID]int64 // packs listed on the source
	dstSizes     map[dag.ID]int64 // packs listed on the destination
	tmp          string
	parallel     int
	// planned, if set, is told of each pack to copy once it may be: a
	// pack of chunks as it is found (with mu held), a metadata pack once
	// read into its file.
	planned func(*packPlan)

	mu    sync.Mutex
	packs map[dag.ID]*packPlan
	// seen holds the objects need met: the pack copied for each, nil
	// for one the destination holds. Versions share most objects; each
	// is looked up once.
	seen  map[dag.ID]*packPlan
	fresh []*packPlan // metadata packs added and not read yet
	// shallow is the source's shallow list, read at the first commit
	// missing from its index; cut the shallow commits whose missing
	// parents were not copied (the destination lists them too).
	shallow *remote.Shallow
	cut     []dag.ID
}

// cutParent reports whether parent p of commit c is missing on the
// source because its history was cut there (with p.mu held).
func (p *planner) cutParent(ctx context.Context, c, parent dag.ID) (bool, error) {
	if p.srcIx.Has(parent) {
		return false, nil
	}
	if p.shallow == nil {
		s, err := remote.ReadShallow(ctx, p.src)
		if err != nil {
			return false, err
		}
		p.shallow = &s
	}
	if !p.shallow.IDs[c] {
		return false, nil
	}
	if !slices.Contains(p.cut, c) {
		p.cut = append(p.cut, c)
	}
	return true, nil
}

func newPlanner(ctx context.Context, src, dst remote.Backend, srcIx, dstIx *remote.Index, tmp string, parallel int) (*planner, error) {
	p := &planner{src: src, dst: dst, srcIx: srcIx, dstIx: dstIx, tmp: tmp, parallel: parallel, packs: map[dag.ID]*packPlan{}, seen: map[dag.ID]*packPlan{}}
	err := both(func() (err error) {
		p.srcSizes, err = listPacks(ctx, src)
		return err
	}, func() (err error) {
		p.dstSizes, err = listPacks(ctx, dst)
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// listPacks lists a remote's packs with their sizes.
func listPacks(ctx context.Context, be remote.Backend) (map[dag.ID]int64, error) {
	objs, err := be.List(ctx, remote.PacksPrefix)
	if err != nil {
		return nil, err
	}
	out := make(map[dag.ID]int64, len(objs))
	for _, o := range objs {
		name, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, remote.PacksPrefix), ".pack")
		if id, err := dag.ParseID(name); ok && err == nil && remote.PackKey(id) == o.Key {
			out[id] = o.Size
		}
	}
	return out, nil
}

// plan walks from roots and returns the packs to copy.
func (p *planner) plan(ctx context.Context, roots []dag.ID) ([]*packPlan, error) {
	for _, r := range roots {
		if err := p.need(r, nil); err != nil {
			return nil, err
		}
	}
	// Read the metadata packs level by level: each may name more.
	for len(p.fresh) > 0 {
		level := p.fresh
		p.fresh = nil
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(p.parallel)
		for _, pp := range level {
			g.Go(func() error {
				if err := p.read(gctx, pp); err != nil {
					return err
				}
				p.tell(pp)
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
	}
	out := make([]*packPlan, 0, len(p.packs))
	for _, pp := range p.packs {
		out = append(out, pp)
	}
	slices.SortFunc(out, func(a, b *packPlan) int { return a.id.Compare(b.id) })
	return out, nil
}

// need makes sure the destination will hold object id, named by an
// object of pack from (nil for a root).
func (p *planner) need(id dag.ID, from *packPlan) error {
	if from != nil && from.ids[id] {
		return nil
	}
	pp, seen := p.seen[id]
	if !seen {
		if p.dstIx.Reusable(id) {
			p.seen[id] = nil
			return nil
		}
		loc, ok := p.srcIx.Lookup(id)
		if !ok {
			return fmt.Errorf("%s: the remote does not hold %s (a damaged remote): %w", p.src, id.Short(), remote.ErrIntegrity)
		}
		if pp, ok = p.packs[loc.Pack]; !ok {
			var err error
			if pp, err = p.add(loc.Pack); err != nil {
				return err
			}
		}
		p.seen[id] = pp
	}
	if pp == nil {
		return nil
	}
	if from != nil && pp.meta && pp != from {
		from.deps[pp.id] = true
	}
	return nil
}

// add plans the copy of one source pack.
func (p *planner) add(id dag.ID) (*packPlan, error) {
	entries := p.srcIx.PackEntries(id)
	footer := pack.EncodeIndex(entries)
	size := pack.Size(entries)
	// The index decoded strictly, so re-encoding it gives its bytes and
	// the pack's length back.
	pp := &packPlan{id: id, footer: footer, entries: entries, size: size, deps: map[dag.ID]bool{}}
	got, listed := p.srcSizes[id]
	switch {
	case !listed:
		return nil, fmt.Errorf("%s: %s is indexed but missing (a damaged remote): %w", p.src, remote.PackKey(id), remote.ErrIntegrity)
	case got != size:
		return nil, fmt.Errorf("%s: %s is %d bytes, its index says %d (a damaged remote): %w", p.src, remote.PackKey(id), got, size, remote.ErrIntegrity)
	}
	// A pack the destination's collector condemned is copied again: its
	// new copy is younger than the condemnation, which spares it.
	pp.onDst = p.dstSizes[id] == size && !p.dstIx.Condemned(id)
	for _, e := range entries {
		if e.Kind.IsMeta() {
			pp.meta = true
			break
		}
	}
	if pp.meta {
		pp.ids = make(map[dag.ID]bool, len(entries))
		for _, e := range entries {
			pp.ids[e.ID] = true
		}
		p.fresh = append(p.fresh, pp)
	}
	p.packs[id] = pp
	if !pp.meta {
		p.tell(pp)
	}
	return pp, nil
}

// tell passes a pack on to planned.
func (p *planner) tell(pp *packPlan) {
	if p.planned != nil {
		p.planned(pp)
	}
}

// read downloads a metadata pack into a temporary file, checking it, and
// plans what its objects name.
func (p *planner) read(ctx context.Context, pp *packPlan) (err error) {
	f, err := os.CreateTemp(p.tmp, pp.id.String()+"-*.pack")
	if err != nil {
		return fmt.Errorf("replicate: %w", err)
	}
	pp.file = f.Name()
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("replicate: %w", cerr)
		}
	}()
	c, err := pack.NewChecker(pp.id, pp.footer)
	if err != nil {
		return fmt.Errorf("%s: %s: %v: %w", p.src, remote.IndexKey(pp.id), err, remote.ErrIntegrity)
	}
	c.OnObject = func(e pack.Entry, raw []byte) error {
		if !e.Kind.IsMeta() || p.dstIx.Reusable(e.ID) {
			return nil // the destination holds all it names
		}
		links, err := dag.Links(e.Kind, raw, true)
		if err != nil {
			return fmt.Errorf("%s: object %s in %s: %v: %w", p.src, e.ID.Short(), remote.PackKey(pp.id), err, remote.ErrIntegrity)
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, l := range links {
			if e.Kind == dag.KindCommit && l.Kind == dag.KindCommit {
				if cut, err := p.cutParent(ctx, e.ID, l.ID); err != nil || cut {
					if err != nil {
						return err
					}
					continue
				}
			}
			if err := p.need(l.ID, pp); err != nil {
				return err
			}
		}
		return nil
	}
	return fetchChecked(ctx, p.src, pp, c, f)
}

// order puts the packs in the order their indexes go up: packs of chunks
// first (they name nothing), then metadata packs after every pack they
// name. Push writes packs so that they never name each other in a circle;
// should two do (the same objects pushed twice at once), they go one right
// after the other.
func order(packs []*packPlan) []*packPlan {
	var out []*packPlan
	left := map[dag.ID]*packPlan{}
	for _, pp := range packs {
		if pp.meta {
			left[pp.id] = pp
		} else {
			out = append(out, pp)
		}
	}
	for len(left) > 0 {
		var ready []*packPlan
		for _, pp := range left {
			blocked := false
			for d := range pp.deps {
				if left[d] != nil {
					blocked = true
					break
				}
			}
			if !blocked {
				ready = append(ready, pp)
			}
		}
		if len(ready) == 0 { // a circle: take the least blocked
			var best *packPlan
			bestN := -1
			for _, pp := range left {
				n := 0
				for d := range pp.deps {
					if left[d] != nil {
						n++
					}
				}
				if best == nil || n < bestN || n == bestN && pp.id.Compare(best.id) < 0 {
					best, bestN = pp, n
				}
			}
			ready = []*packPlan{best}
		}
		slices.SortFunc(ready, func(a, b *packPlan) int { return a.id.Compare(b.id) })
		for _, pp := range ready {
			out = append(out, pp)
			delete(left, pp.id)
		}
	}
	return out
}

// tempDir makes the directory the metadata packs are read into.
func tempDir(dir string) (string, error) {
	d, err := os.MkdirTemp(dir, "dx-replicate-")
	if err != nil {
		return "", fmt.Errorf("replicate: %w", err)
	}
	return filepath.Clean(d), nil
}
