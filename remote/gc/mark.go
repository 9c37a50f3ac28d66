package gc

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/store/pack"
)

// Graph is what a remote's metadata names: each metadata object's links,
// and the packs that hold each object.
type Graph struct {
	links map[dag.ID][]dag.ID
	packs map[dag.ID][]dag.ID // object → the packs holding it
	// entries are each pack's objects.
	entries map[dag.ID][]pack.Entry
	// commits are the commits' parents and times; models the model
	// versions and stage moves (what may name a commit other than as a
	// parent).
	commits map[dag.ID]commitInfo
	models  map[dag.ID]bool
	// kinds are the metadata objects' kinds; trees the decoded tree
	// nodes (kept by LoadGraph only: what an account by path reads).
	kinds map[dag.ID]dag.Kind
	trees map[dag.ID]*dag.TreeNode
	// cut are the missing parents of the shallow commits (LoadGraph).
	cut map[dag.ID]bool
}

// meta is what a metadata object names.
type meta struct {
	links  []dag.ID
	kind   dag.Kind
	commit commitInfo
	tree   *dag.TreeNode
}

// LoadGraph reads a remote's indexes (cached in cache) and the metadata
// of its packs (see loadGraph).
func LoadGraph(ctx context.Context, be remote.Backend, cache string) (*Graph, error) {
	ix, err := remote.LoadIndex(ctx, be, cache)
	if err != nil {
		return nil, err
	}
	g, err := loadGraph(ctx, be, ix, 8, true)
	if err != nil {
		return nil, err
	}
	sh, err := remote.ReadShallow(ctx, be)
	if err != nil {
		return nil, err
	}
	g.cut = map[dag.ID]bool{}
	for c := range sh.IDs {
		for _, p := range g.commits[c].parents {
			g.cut[p] = len(g.packs[p]) == 0
		}
	}
	return g, nil
}

// Kind is the kind of an object the remote holds (for the account by
// path).
func (g *Graph) Kind(_ context.Context, id dag.ID) (dag.Kind, bool, error) {
	if k, ok := g.kinds[id]; ok {
		return k, true, nil
	}
	return dag.KindChunk, len(g.packs[id]) > 0, nil
}

// TreeNode is a tree node of the remote, as LoadGraph decoded it.
func (g *Graph) TreeNode(_ context.Context, id dag.ID) (*dag.TreeNode, error) {
	n, ok := g.trees[id]
	if !ok {
		return nil, fmt.Errorf("tree %s: %w", id.Short(), remote.ErrNotExist)
	}
	return n, nil
}

// Object returns what id names and its stored size (as the usage
// accounting reads a graph); a missing parent of a shallow commit is
// dag.ErrShallow.
func (g *Graph) Object(_ context.Context, id dag.ID) ([]dag.ID, int64, bool, error) {
	ps := g.packs[id]
	if len(ps) == 0 {
		if g.cut[id] {
			return nil, 0, false, fmt.Errorf("commit %s: %w", id.Short(), dag.ErrShallow)
		}
		return nil, 0, false, nil
	}
	for _, e := range g.entries[ps[0]] {
		if e.ID == id {
			return g.links[id], int64(e.Stored), true, nil
		}
	}
	return nil, 0, false, nil
}

// loadGraph reads the metadata of every indexed pack, one ranged GET per
// pack that holds any (from its first metadata object to its last), and
// checks each object against its id.
func loadGraph(ctx context.Context, be remote.Backend, ix *remote.Index, parallel int, keepTrees bool) (*Graph, error) {
	g := &Graph{links: map[dag.ID][]dag.ID{}, packs: map[dag.ID][]dag.ID{}, entries: map[dag.ID][]pack.Entry{},
		commits: map[dag.ID]commitInfo{}, models: map[dag.ID]bool{}, kinds: map[dag.ID]dag.Kind{}, trees: map[dag.ID]*dag.TreeNode{}}
	var mu sync.Mutex
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(parallel)
	for _, p := range ix.Packs() {
		es := ix.PackEntries(p)
		g.entries[p] = es
		for _, e := range es {
			g.packs[e.ID] = append(g.packs[e.ID], p)
		}
		var first, end uint64
		meta := 0
		for _, e := range es {
			if !e.Kind.IsMeta() {
				continue
			}
			if meta == 0 || e.Offset < first {
				first = e.Offset
			}
			end = max(end, e.Offset+uint64(e.Stored))
			meta++
		}
		if meta == 0 {
			continue
		}
		eg.Go(func() error {
			links, err := readMeta(ectx, be, p, es, first, end, keepTrees)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			for id, m := range links {
				g.links[id] = m.links
				g.kinds[id] = m.kind
				if m.tree != nil {
					g.trees[id] = m.tree
				}
				switch m.kind {
				case dag.KindCommit:
					g.commits[id] = m.commit
				case dag.KindModel, dag.KindStage:
					g.models[id] = true
				}
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	return g, nil
}

// readMeta reads a pack's metadata objects and returns what each names.
func readMeta(ctx context.Context, be remote.Backend, p dag.ID, es []pack.Entry, first, end uint64, keepTrees bool) (map[dag.ID]meta, error) {
	rc, err := be.GetRange(ctx, remote.PackKey(p), int64(first), int64(end-first))
	if err != nil {
		return nil, err
	}
	buf, err := io.ReadAll(io.LimitReader(rc, int64(end-first)+1))
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", be, remote.PackKey(p), err)
	}
	if uint64(len(buf)) != end-first {
		return nil, fmt.Errorf("%s: %s is shorter than its index says: %w", be, remote.PackKey(p), remote.ErrIntegrity)
	}
	out := map[dag.ID]meta{}
	var scratch []byte
	for _, e := range es {
		if !e.Kind.IsMeta() {
			continue
		}
		stored := buf[e.Offset-first : e.Offset-first+uint64(e.Stored)]
		raw, err := pack.Decompress(scratch[:0], stored, e.Codec, int(e.Raw))
		if err == nil && dag.Hash(e.Kind, raw) != e.ID {
			err = fmt.Errorf("content does not match its id")
		}
		if err != nil {
			return nil, fmt.Errorf("%s: object %s in %s: %v: %w", be, e.ID.Short(), remote.PackKey(p), err, remote.ErrIntegrity)
		}
		ls, err := dag.Links(e.Kind, raw, true)
		if err != nil {
			return nil, fmt.Errorf("%s: object %s in %s: %v: %w", be, e.ID.Short(), remote.PackKey(p), err, remote.ErrIntegrity)
		}
		ids := make([]dag.ID, len(ls))
		for i, l := range ls {
			ids[i] = l.ID
		}
		m := meta{links: ids, kind: e.Kind}
		if e.Kind == dag.KindCommit {
			c, err := dag.DecodeCommit(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: object %s in %s: %v: %w", be, e.ID.Short(), remote.PackKey(p), err, remote.ErrIntegrity)
			}
			m.commit = commitInfo{parents: c.Parents, time: c.Time}
		}
		if e.Kind == dag.KindTree && keepTrees {
			if m.tree, err = dag.DecodeTreeNode(raw); err != nil {
				return nil, fmt.Errorf("%s: object %s in %s: %v: %w", be, e.ID.Short(), remote.PackKey(p), err, remote.ErrIntegrity)
			}
		}
		out[e.ID] = m
		scratch = raw[:0]
	}
	return out, nil
}

// mark returns the kept packs and the live objects. Live are the
// objects the roots reach, every object of a kept pack, and what live
// objects name; kept are the packs in young and, for each live object,
// the packs holding it that are not condemned (those that are, only when
// no other holds it: a repacked pack's objects live on in its copy).
func (g *Graph) mark(roots []dag.ID, young, condemned map[dag.ID]bool, c *cut) (kept, live map[dag.ID]bool) {
	kept, live = map[dag.ID]bool{}, map[dag.ID]bool{}
	var queue []dag.ID
	keep := func(p dag.ID) {
		if kept[p] {
			return
		}
		kept[p] = true
		for _, e := range g.entries[p] {
			queue = append(queue, e.ID)
		}
	}
	for p := range young {
		keep(p)
	}
	queue = append(queue, roots...)
	for len(queue) > 0 {
		id := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if live[id] {
			continue
		}
		live[id] = true
		holders := g.packs[id]
		spared := false
		for _, p := range holders {
			if !condemned[p] || young[p] {
				keep(p)
				spared = true
			}
		}
		if !spared {
			for _, p := range holders {
				keep(p)
			}
		}
		queue = g.follow(queue, id, c)
	}
	return kept, live
}

// follow appends what id names to queue, but the parents the cut leaves
// to go.
func (g *Graph) follow(queue []dag.ID, id dag.ID, c *cut) []dag.ID {
	ci, isCommit := g.commits[id]
	if !isCommit || !c.cuts(id) {
		return append(queue, g.links[id]...)
	}
	for _, l := range g.links[id] {
		if !slices.Contains(ci.parents, l) || c.kept[l] {
			queue = append(queue, l)
		}
	}
	return queue
}

// reach returns the objects the roots reach and those of the young
// packs, with what they name: what must survive a repack.
func (g *Graph) reach(roots []dag.ID, young map[dag.ID]bool, c *cut) map[dag.ID]bool {
	seen := map[dag.ID]bool{}
	queue := append([]dag.ID(nil), roots...)
	for p := range young {
		for _, e := range g.entries[p] {
			queue = append(queue, e.ID)
		}
	}
	for len(queue) > 0 {
		id := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if !seen[id] {
			seen[id] = true
			queue = g.follow(queue, id, c)
		}
	}
	return seen
}

// sparse picks the kept packs to repack: those whose share of reached
// bytes is below below, with at least minDead bytes not reached, and
// then every kept pack holding an unreached object that names an
// unreached object of a pack picked, so that the packs left unpicked
// name only what stays.
func (g *Graph) sparse(kept, spare map[dag.ID]bool, reached map[dag.ID]bool, below float64, minDead int64) map[dag.ID]bool {
	picked := map[dag.ID]bool{}
	var queue []dag.ID
	for p := range kept {
		if spare[p] {
			continue
		}
		lb, dead := liveShare(g.entries[p], reached)
		if below > 0 && float64(lb) < below*float64(lb+dead) && dead >= minDead {
			picked[p] = true
			queue = append(queue, p)
		}
	}
	if len(queue) == 0 {
		return picked
	}
	named := map[dag.ID][]dag.ID{} // object → the unreached objects naming it
	for id, ls := range g.links {
		if reached[id] {
			continue
		}
		for _, l := range ls {
			named[l] = append(named[l], id)
		}
	}
	for len(queue) > 0 {
		p := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		for _, e := range g.entries[p] {
			if reached[e.ID] {
				continue
			}
			for _, y := range named[e.ID] {
				for _, h := range g.packs[y] {
					if kept[h] && !spare[h] && !picked[h] {
						picked[h] = true
						queue = append(queue, h)
					}
				}
			}
		}
	}
	return picked
}
