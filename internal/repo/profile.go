package repo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/check"
	"github.com/dxdata/dx/internal/contract"
	"github.com/dxdata/dx/internal/profile"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/store"
)

// prefixProfile is the index's table of where column profiles are kept
// (store.DerivedFiles: a chunk's profile is kilobytes, too big for the
// index itself; see profile.Compute): a span of chunks' under its chunk
// ids, a file's under its id.
const prefixProfile = 'P'

// ErrNotTable: a path named for a profile or a drift is not a table
// (.dxattributes says which files are).
var ErrNotTable = errors.New("not a table")

// profileCache keeps profiles in the store's derived files. Once Locate
// has looked keys up, Get reads theirs without the index.
type profileCache struct {
	d       *store.DerivedFiles
	located *store.LocatedValues
	index   map[string]int // the located keys'
}

var _ profile.Cache = (*profileCache)(nil)

func (c *profileCache) Get(ctx context.Context, keys []string, fn func(i int, v []byte)) {
	if len(keys) == 0 {
		return
	}
	if c.located == nil {
		_ = c.d.Get(ctx, keys, fn) // nothing located (a Parquet table's profile)
		return
	}
	idx := make([]int, len(keys))
	for j, k := range keys {
		i, ok := c.index[k]
		if !ok {
			_ = c.d.Get(ctx, keys, fn) // a miss: computed again
			return
		}
		idx[j] = i
	}
	_ = c.located.Get(ctx, idx, fn)
}

// Locate looks keys up for the Gets to come (see profile.Locator).
func (c *profileCache) Locate(ctx context.Context, keys []string) []bool {
	l, err := c.d.Locate(ctx, keys)
	if err != nil {
		set := make([]bool, len(keys))
		for i := range set {
			set[i] = true // unknown: Get looks them up
		}
		return set
	}
	c.located, c.index = l, make(map[string]int, len(keys))
	for i, k := range keys {
		c.index[k] = i
	}
	return l.Set()
}

// Put records profiles (a cache: a failed write costs a computation
// later).
func (c *profileCache) Put(ctx context.Context, keys []string, values [][]byte) {
	_ = c.d.Put(ctx, keys, values)
}

// TableProfile is the profile of one table version.
type TableProfile struct {
	Commit dag.ID `json:"commit"`
	Path   string `json:"path"`
	Format string `json:"format"`
	profile.Stats
	// CacheReads and CacheBytes: the reads of the stored profiles' files,
	// and the bytes of the profiles they gave.
	CacheReads int64 `json:"cache_reads"`
	CacheBytes int64 `json:"cache_bytes_read"`
	profile.Summary
	whole *profile.Profile
}

// ProfileTable profiles the table at REV:PATH, computing only the chunks
// whose profile no earlier version left in the index.
func (r *Repo) ProfileTable(ctx context.Context, spec string) (*TableProfile, error) {
	if !strings.Contains(spec, ":") {
		return nil, fmt.Errorf("profile: %q: expected REV:PATH", spec)
	}
	res, p, e, err := r.ResolveTreePath(ctx, spec)
	if err != nil {
		return nil, err
	}
	tree := res.Commit.Tree
	attrs, err := r.treeAttributes(ctx, tree)
	if err != nil {
		return nil, err
	}
	tspec, ok := attrs.RowTable(p)
	if !ok || !e.Mode.IsFile() {
		return nil, fmt.Errorf("%s: %w (%s says which files are)", p, ErrNotTable, table.AttributesFile)
	}
	c, err := r.treeContract(ctx, tree)
	if err != nil {
		return nil, err
	}
	base := r.profileBase(ctx, res.Commit, p, &e, tspec)
	tp, err := r.profileEntry(ctx, p, &e, base, tspec, c)
	if err != nil {
		return nil, err
	}
	tp.Commit = res.ID
	return tp, nil
}

// maxProfileBase is how many first-parent ancestors of a commit are
// looked at for an earlier version of a table whose stored profile its
// own can be derived from.
const maxProfileBase = 16

// profileBase is the version of table p (e, in commit c) in the nearest
// of c's first-parent ancestors that differs from it and has its profile
// stored, or nil.
func (r *Repo) profileBase(ctx context.Context, c *dag.Commit, p string, e *dag.TreeEntry, spec table.Spec) *dag.TreeEntry {
	if spec.Format == table.Parquet {
		return nil
	}
	d, err := r.Store.DerivedFiles(prefixProfile)
	if err != nil {
		return nil
	}
	defer d.Close()
	for range maxProfileBase {
		if c == nil || len(c.Parents) == 0 {
			return nil
		}
		if c, err = dag.LoadCommit(ctx, r.Store, c.Parents[0]); err != nil {
			return nil
		}
		old, err := dag.LookupPath(ctx, r.Store, c.Tree, p)
		if err != nil || !old.Mode.IsFile() || old.ID == e.ID {
			continue
		}
		if l, err := d.Locate(ctx, []string{profile.FileKey(spec, old.ID)}); err == nil && l.Set()[0] {
			return &old
		}
	}
	return nil
}

// profileEntry profiles a stored table file, derived from the profile of
// base (an earlier version, if set) where it can; c gives its columns'
// types.
func (r *Repo) profileEntry(ctx context.Context, p string, e, base *dag.TreeEntry, spec table.Spec, c *contract.Contract) (*TableProfile, error) {
	src, err := r.entrySource(ctx, e, p)
	if err != nil {
		return nil, err
	}
	d, err := r.Store.DerivedFiles(prefixProfile)
	if err != nil {
		return nil, err
	}
	defer d.Close() // a cache: its values are written or lost
	var whole *profile.Profile
	var st profile.Stats
	if spec.Format == table.Parquet {
		whole, st, err = profile.ComputeParquet(ctx, profile.Table{Version: check.Version{Path: p, Source: src}, Spec: spec, ID: e.ID}, &profileCache{d: d})
	} else {
		v, verr := r.checkVersion(ctx, p, spec, src)
		if verr != nil {
			return nil, verr
		}
		t := profile.Table{Version: v, Spec: spec, ID: e.ID}
		if base != nil {
			if bsrc, err := r.entrySource(ctx, base, p); err == nil {
				if bv, err := r.checkVersion(ctx, p, spec, bsrc); err == nil {
					t.Base = &profile.Table{Version: bv, Spec: spec, ID: base.ID}
				}
			}
		}
		bar := r.opts.Progress.Start("profiling "+p, int64(e.Size), true)
		t.Progress = bar.Add
		whole, st, err = profile.Compute(ctx, t, &profileCache{d: d})
		bar.Done()
	}
	if err != nil {
		return nil, err
	}
	reads, bytes := d.Read()
	t, _ := c.For(p)
	declared := func(col string) contract.Type {
		if t != nil {
			for _, cc := range t.Columns {
				if cc.Name == col {
					return cc.Type
				}
			}
		}
		return contract.TypeAny
	}
	return &TableProfile{Path: p, Format: string(spec.Format), Stats: st, CacheReads: reads, CacheBytes: bytes, Summary: profile.Summarize(whole, declared), whole: whole}, nil
}

// profileForDrift profiles the changed tables of a new commit's tree
// whose contract sets drift thresholds, so that dx drift finds their
// profiles made; a table without them costs nothing. The commit is made:
// a failure is a warning. It returns how many tables it profiled.
func (r *Repo) profileForDrift(ctx context.Context, tree dag.ID, changes []Change) int {
	c, err := r.treeContract(ctx, tree)
	if err != nil || c.Empty() {
		return 0
	}
	attrs, err := r.treeAttributes(ctx, tree)
	if err != nil {
		return 0
	}
	n := 0
	for _, ch := range changes {
		if ch.New == nil || !ch.New.Mode.IsFile() || !r.inSparse(ch.Path) {
			continue
		}
		t, ok := c.For(ch.Path)
		spec, isTable := attrs.RowTable(ch.Path)
		if !ok || !isTable || !t.WatchesDrift() {
			continue
		}
		base := ch.Old
		if base != nil && !base.Mode.IsFile() {
			base = nil
		}
		if _, err := r.profileEntry(ctx, ch.Path, ch.New, base, spec, c); err != nil {
			r.warn(fmt.Sprintf("profiling %s for drift: %v", ch.Path, err))
			continue
		}
		n++
	}
	return n
}
