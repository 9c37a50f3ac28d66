package repo

import (
	"context"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/zeebo/blake3"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/check"
	"github.com/dxdata/dx/internal/progress"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/internal/worktree"
	"github.com/dxdata/dx/store"
)

// IgnoreFile is the gitignore-syntax file at the worktree root.
const IgnoreFile = ".dxignore"

// worktreeNode is one scanned worktree entry.
type worktreeNode struct {
	name  string
	path  string // slash-separated, relative to the root
	mode  dag.Mode
	stat  worktree.StatEntry
	id    dag.ID // File or Tree ID once known
	known bool
	// fromCache: id came from the stat cache, not from reading the file.
	fromCache bool
	size      uint64
	// deferred: a regular file the scan did not stat; ingestFiles sets
	// its stat, mode and size from the descriptor that reads it.
	deferred bool
	children []*worktreeNode // directories, sorted by name
	// ingested checks a new table's rows as it is read (see verifyTable).
	ingested *check.Ingested
}

// overlay is a Putter that keeps tree nodes in memory (and serves them to
// Get), falling back to the store for everything else. It lets status diff
// a worktree snapshot against a commit without writing anything.
type overlay struct {
	mu   sync.Mutex
	objs map[dag.ID][]byte
	base dag.Getter
}

func newOverlay(base dag.Getter) *overlay { return &overlay{objs: map[dag.ID][]byte{}, base: base} }

func (o *overlay) Put(_ context.Context, k dag.Kind, b []byte) (dag.ID, error) {
	id := dag.Hash(k, b)
	if k == dag.KindTree {
		o.mu.Lock()
		o.objs[id] = append([]byte(nil), b...)
		o.mu.Unlock()
	}
	return id, nil
}

func (o *overlay) Get(ctx context.Context, k dag.Kind, id dag.ID) ([]byte, error) {
	o.mu.Lock()
	b, ok := o.objs[id]
	o.mu.Unlock()
	if ok {
		return b, nil
	}
	return o.base.Get(ctx, k, id)
}

// findNode returns the node at path p below root, or nil.
func findNode(root *worktreeNode, p string) *worktreeNode {
	if p == "" {
		return root
	}
	n := root
	for _, name := range strings.Split(p, "/") {
		// Children are in tree order (sorted by name).
		i := sort.Search(len(n.children), func(i int) bool { return n.children[i].name >= name })
		if i == len(n.children) || n.children[i].name != name {
			return nil
		}
		n = n.children[i]
	}
	return n
}

// snapshot is the worktree turned into a tree.
type snapshot struct {
	tree   dag.ID
	getter dag.Getter          // reads the snapshot's trees
	hashed []worktree.PathStat // files whose content was read, for the stat cache
	root   *worktreeNode
	// diff is base → tree as changes, when takeSnapshot computed it
	// (store mode); nil otherwise.
	diff     []Change
	diffBase dag.ID
	ingestN  int   // files read
	ingestB  int64 // bytes read
	// grafted: a snapshot of some paths (a sparse worktree's, or those a
	// commit names), whose tree is HEAD's with them replaced (root holds
	// only those).
	grafted bool
	// checkNew: tables new to HEAD are checked as ingest reads them.
	checkNew bool
}

// takeSnapshot scans the worktree and builds its tree. With store set to
// IngestStore, new chunks and all objects are written; with IngestHash,
// nothing is written and tree nodes live in an overlay. base is the tree
// the snapshot will be compared with (HEAD's; zero for none): in store
// mode, files taken from the stat cache that differ from base are checked
// to be stored, so a commit never names a missing object, at a cost that
// follows the change. checkNew: a table new to HEAD is checked as it is
// read (a commit that checks its tables).
func (r *Repo) takeSnapshot(ctx context.Context, mode store.IngestMode, only []string, label string, base dag.ID, checkNew bool) (*snapshot, error) {
	if r.incomplete != nil {
		return nil, r.incomplete
	}
	// A sparse worktree holds its sparse paths only, and a commit of some
	// paths takes only those: the rest of the tree is grafted from HEAD.
	sparse := r.sparse != nil && len(only) == 0
	if sparse {
		only = r.sparse
	}
	grafting := len(only) > 0
	sc, err := r.newScanner(ctx, r.Root, only)
	if err != nil {
		return nil, err
	}
	// With no stat cache (a first commit), every file is read: none is
	// statted twice.
	if store.StatsOpened {
		has, err := worktree.HasStats(ctx, r.Store)
		if err != nil {
			return nil, err
		}
		sc.deferFiles = !has
	}
	// The file system's clock, not opts.Now: DX_DATE pins commit times,
	// not the racy-clean rule. Read before the scan's first lstat.
	startNs := worktree.Stamp(r.Store)
	root, err := sc.scan(ctx)
	if err != nil {
		return nil, err
	}
	// Match files against the stat cache in path order: a merge walk, so
	// nothing the size of the cache is built in memory.
	files := fileNodes(root)
	slices.SortFunc(files, func(a, b *worktreeNode) int { return strings.Compare(a.path, b.path) })
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.path
	}
	err = worktree.LookupStats(ctx, r.Store, paths, func(i int, e worktree.StatEntry) {
		if c := files[i]; !c.deferred && e.Matches(c.stat) && e.Trusted() {
			c.id, c.known, c.fromCache = e.File, true, true
		}
	})
	if err != nil {
		return nil, err
	}
	// Files whose content must be read.
	var todo []*worktreeNode
	var walk func(n *worktreeNode)
	walk = func(n *worktreeNode) {
		for _, c := range n.children {
			switch {
			case c.mode == dag.ModeDir:
				walk(c)
			case !c.known:
				todo = append(todo, c)
			}
		}
	}
	walk(root)

	var putter dag.Putter = r.Store
	var getter dag.Getter = r.Store
	if mode != store.IngestStore {
		ov := newOverlay(r.Store)
		putter, getter = ov, ov
	}
	snap := &snapshot{getter: getter, root: root, checkNew: checkNew}
	// Every file known from the stat cache: the tree cache may have the
	// root tree of exactly these files.
	whole := r.sparse == nil && len(only) == 0
	cached := whole && len(todo) == 0 && r.cachedTrees(ctx, root, files)
	if err := r.ingestNodes(ctx, mode, todo, label, startNs, snap); err != nil {
		return nil, err
	}
	if mode == store.IngestStore {
		// No more chunks: the last data pack is written while the trees
		// are built.
		r.Store.SealData()
	}
	if !cached {
		if err := buildTrees(ctx, putter, root); err != nil {
			return nil, err
		}
		if whole {
			r.saveTreeCache(ctx, root, files)
		}
	}
	top := root.id
	if grafting {
		if top, err = r.graft(ctx, getter, putter, root, only, !sparse); err != nil {
			return nil, err
		}
	}
	if mode == store.IngestStore {
		// Cached files that differ from base: are they stored? (Those
		// equal to base are: base is reachable.) Normally they all are;
		// any that are not are read again and the trees rebuilt.
		var check []*worktreeNode
		var diff []Change
		switch {
		case base.IsZero():
			// Everything is added: list it from the scan rather than
			// reading the new trees back.
			diff = make([]Change, 0, len(files))
			var add func(n *worktreeNode)
			add = func(n *worktreeNode) {
				for _, c := range n.children {
					if c.mode == dag.ModeDir {
						add(c)
						continue
					}
					diff = append(diff, changeOf(c.path, nil, &dag.TreeEntry{Name: c.name, Mode: c.mode, ID: c.id, Size: c.size}))
					if c.fromCache {
						check = append(check, c)
					}
				}
			}
			add(root)
		default:
			err := dag.DiffTrees(ctx, getter, base, top, func(p string, x, y *dag.TreeEntry) error {
				diff = append(diff, changeOf(p, x, y))
				if y == nil || y.Mode == dag.ModeDir {
					return nil
				}
				if n := findNode(root, p); n != nil && n.fromCache {
					check = append(check, n)
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
		ids := make([]dag.ID, len(check))
		for i, n := range check {
			ids[i] = n.id
		}
		have, err := r.Store.HasMany(ctx, ids)
		if err != nil {
			return nil, err
		}
		var missing []*worktreeNode
		for i, n := range check {
			if !have[i] {
				n.known, n.fromCache = false, false
				missing = append(missing, n)
			}
		}
		if len(missing) == 0 {
			snap.diff, snap.diffBase = pairRenames(diff), base
		} else {
			if err := r.ingestNodes(ctx, mode, missing, label, startNs, snap); err != nil {
				return nil, err
			}
			if err := buildTrees(ctx, putter, root); err != nil {
				return nil, err
			}
			if whole {
				r.saveTreeCache(ctx, root, files)
			}
			top = root.id
			if grafting {
				if top, err = r.graft(ctx, getter, putter, root, only, !sparse); err != nil {
					return nil, err
				}
			}
		}
	}
	snap.tree, snap.grafted = top, grafting
	return snap, nil
}

// ingested gives the check made of the file at p as the snapshot read it
// as File id, or nil.
func (s *snapshot) ingested(p string, id dag.ID) *check.Ingested {
	n := findNode(s.root, p)
	if n == nil || n.id != id || !n.known || n.fromCache {
		return nil
	}
	return n.ingested
}

// statOf gives the stat a scanned file had when the snapshot read it (or
// found it in the stat cache).
func (s *snapshot) statOf(p string) (worktree.StatEntry, bool) {
	n := findNode(s.root, p)
	if n == nil || n.mode == dag.ModeDir {
		return worktree.StatEntry{}, false
	}
	return n.stat, true
}

// treeFingerprint identifies a worktree by its files (path order): their
// paths, modes, File IDs and sizes, which make its trees.
func treeFingerprint(files []*worktreeNode) [32]byte {
	h := blake3.New()
	var b []byte
	for _, f := range files {
		b = append(append(b[:0], f.path...), 0, byte(f.mode))
		b = append(binary.AppendUvarint(append(b, f.id[:]...), f.size), 0)
		h.Write(b)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// cachedTrees gives root the tree the tree cache recorded for exactly
// these files, all known, if that tree is in the store (a status builds
// its trees aside, and whoever takes the snapshot may read them). It
// reports whether it did (a miss or an error: the trees are built).
func (r *Repo) cachedTrees(ctx context.Context, root *worktreeNode, files []*worktreeNode) bool {
	tc, ok, err := worktree.LoadTreeCache(ctx, r.Store)
	if err != nil || !ok || tc.Fingerprint != treeFingerprint(files) {
		return false
	}
	if has, err := r.Store.Has(ctx, tc.Root); err != nil || !has {
		return false
	}
	root.id, root.size, root.known = tc.Root, tc.Size, true
	return true
}

// saveTreeCache records root's tree for its files (failing is a miss
// later, not an error now).
func (r *Repo) saveTreeCache(ctx context.Context, root *worktreeNode, files []*worktreeNode) {
	_ = worktree.SaveTreeCache(ctx, r.Store, worktree.TreeCache{Fingerprint: treeFingerprint(files), Root: root.id, Size: root.size})
}

// fileNodes lists the files (not directories) beneath n.
func fileNodes(n *worktreeNode) []*worktreeNode {
	var files []*worktreeNode
	var collect func(n *worktreeNode)
	collect = func(n *worktreeNode) {
		for _, c := range n.children {
			if c.mode == dag.ModeDir {
				collect(c)
			} else {
				files = append(files, c)
			}
		}
	}
	collect(n)
	return files
}

// ingestNodes reads the files of nodes into the store (or only hashes them)
// and records what was read for the stat cache.
func (r *Repo) ingestNodes(ctx context.Context, mode store.IngestMode, nodes []*worktreeNode, label string, startNs int64, snap *snapshot) error {
	if len(nodes) == 0 {
		return nil
	}
	res, err := r.ingestFiles(ctx, r.Root, mode, nodes, label, snap.checkNew)
	if err != nil {
		return err
	}
	snap.ingestN += len(nodes)
	// Sized once: grown by appends, it cost a commit of 200,000 files 96
	// MB of copies.
	snap.hashed = slices.Grow(snap.hashed, len(nodes))
	for i, n := range nodes {
		snap.ingestB += int64(n.size)
		// Cache only what was read whole and unchanged.
		if n.mode == dag.ModeSymlink || res[i].Size == uint64(n.stat.Size) {
			e := n.stat
			e.File = n.id
			e.Recorded = startNs
			snap.hashed = append(snap.hashed, worktree.PathStat{Path: n.path, Entry: e})
		}
	}
	return nil
}

// ingestFiles reads the scanned files (paths relative to base) into the
// store (or only hashes them) and sets their ids; symlinks are stored as
// their target. checkNew: a table new to HEAD is checked as it is read
// (check.Ingested), for a commit that checks its tables.
func (r *Repo) ingestFiles(ctx context.Context, base string, mode store.IngestMode, nodes []*worktreeNode, label string, checkNew bool) ([]store.IngestResult, error) {
	var total int64
	files := make([]store.IngestFile, len(nodes))
	var stats []store.FileStat // by node: the deferred nodes' stats
	// The attributes say which files are Parquet (hashing must cut them
	// as storing does), and stored tables record their chunks' key
	// ranges, for merges.
	var attrs *table.Attributes
	if base == r.Root {
		attrs, _ = r.worktreeAttributes(ctx) // unreadable: no ranges (status says why)
	}
	inHead := r.headHas(ctx)
	for i, n := range nodes {
		total += int64(n.size)
		full := filepath.Join(base, filepath.FromSlash(n.path))
		files[i] = store.IngestFile{Path: full, Name: n.path, Layout: layoutOf(attrs, n.path)}
		if n.deferred {
			if stats == nil {
				stats = make([]store.FileStat, len(nodes))
			}
			files[i].Stat = &stats[i]
		}
		if mode == store.IngestStore && (n.mode == dag.ModeFile || n.mode == dag.ModeExec) {
			if spec, h, head, ok := tableHead(attrs, n.path, full); ok {
				files[i].Keys = recordKeys(spec, h)
				// A table new to HEAD is checked whole by the commit: as
				// it is read, not by reading it again, where it can be.
				if checkNew && !inHead(n.path) {
					if n.ingested = check.NewIngested(table.New(spec), h, head); n.ingested != nil {
						files[i].Observe = n.ingested.Chunk
					}
				}
			}
		}
		if n.mode == dag.ModeSymlink {
			files[i].Open = func() (io.ReadCloser, error) {
				t, err := os.Readlink(full)
				if err != nil {
					return nil, err
				}
				return io.NopCloser(strings.NewReader(t)), nil
			}
		}
	}
	opts := store.IngestOptions{Mode: mode, Warn: r.warn}
	var bar progress.Bar
	if stats != nil {
		// Sizes not statted are not known before the files are read:
		// the bar counts files.
		bar = r.opts.Progress.Start(label, int64(len(nodes)), false)
		opts.FileDone = func() { bar.Add(1) }
	} else {
		bar = r.opts.Progress.Start(label, total, true)
		opts.Progress = bar.Add
	}
	res, err := r.Store.Ingest(ctx, files, opts)
	bar.Done()
	if err != nil {
		return nil, err
	}
	for i, n := range nodes {
		if n.deferred {
			st := stats[i]
			n.mode = dag.ModeFile
			if st.Exec {
				n.mode = dag.ModeExec
			}
			n.stat = worktree.StatEntry{Size: st.Size, MtimeNs: st.MtimeNs, CtimeNs: st.CtimeNs, Inode: st.Inode, Mode: n.mode}
			n.size, n.deferred = uint64(st.Size), false
		}
		n.id, n.known = res[i].ID, true
		if n.mode == dag.ModeSymlink {
			n.size = res[i].Size
		}
	}
	return res, nil
}

// buildTrees builds the tree objects of n and everything below it,
// bottom-up.
func buildTrees(ctx context.Context, putter dag.Putter, n *worktreeNode) error {
	return buildTreesPar(ctx, putter, n, make(chan struct{}, 2*runtime.GOMAXPROCS(0)))
}

// buildTreesPar builds subdirectories in parallel while sem has a slot.
func buildTreesPar(ctx context.Context, putter dag.Putter, n *worktreeNode, sem chan struct{}) error {
	var wg sync.WaitGroup
	errs := make([]error, len(n.children))
	for i, c := range n.children {
		if c.mode != dag.ModeDir {
			continue
		}
		select {
		case sem <- struct{}{}:
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				errs[i] = buildTreesPar(ctx, putter, c, sem)
			}()
		default:
			errs[i] = buildTreesPar(ctx, putter, c, sem)
		}
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	tb := dag.NewTreeBuilder(ctx, putter)
	for _, c := range n.children {
		if err := tb.Add(dag.TreeEntry{Name: c.name, Mode: c.mode, ID: c.id, Size: c.size}); err != nil {
			return err
		}
	}
	id, size, err := tb.Finish()
	if err != nil {
		return err
	}
	n.id, n.size, n.known = id, size, true
	return nil
}
