package repo

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/internal/table/parquet"
	"github.com/dxdata/dx/merge"
	"github.com/dxdata/dx/store"
)

// TableDiff is the row-level difference of one table between two versions.
// A changed file that is not a table (per .dxattributes) has Spec unset
// and only its file-level Change.
type TableDiff struct {
	Change Change
	Table  bool
	Spec   table.Spec
	Rows   *merge.RowDiff // nil unless Table (and fetched)
	// NotFetched: a table outside a sparse repository's paths, whose
	// content was not fetched; listed only with RowDiffOptions.Unfetched.
	NotFetched bool
	// SchemaChange says how a Parquet table's schema changed; its rows
	// are not compared (Rows is nil).
	SchemaChange string
}

// RowDiffOptions select what DiffRows compares.
type RowDiffOptions struct {
	Revs []string // as for Diff: two revisions, one (against the worktree) or none (HEAD against the worktree)
	// From and To compare two commits instead of Revs when To is set; a
	// zero From is the empty tree (every row of To is added).
	From, To dag.ID
	Paths    []string // repository paths to limit the diff to (a directory covers what is below it)
	// Unfetched lists a changed table outside a sparse repository's paths
	// as NotFetched, without rows, instead of failing (a listing may; a
	// delta or a row export must not leave rows out).
	Unfetched bool
}

// DiffRows compares two versions file by file and, for every changed table,
// row by row. Only the chunks that differ between the versions are read.
func (r *Repo) DiffRows(ctx context.Context, o RowDiffOptions) ([]TableDiff, error) {
	var sides *diffSides
	var err error
	if o.To.IsZero() {
		sides, err = r.diffSides(ctx, o.Revs)
	} else {
		sides, err = r.commitSides(ctx, o.From, o.To)
	}
	if err != nil {
		return nil, err
	}
	changes, attrs, err := r.changesOf(ctx, sides)
	if err != nil {
		return nil, err
	}
	var out []TableDiff
	for _, c := range changes {
		if !underAny(c.Path, o.Paths) {
			continue
		}
		diff := r.tableDiffOf(c, attrs)
		if !diff.Table || diff.NotFetched && o.Unfetched {
			out = append(out, diff)
			continue
		}
		diff.NotFetched = false // read anyway: diffTable says it was not fetched
		rows, err := r.diffTable(ctx, sides, c, diff.Spec)
		if sc, ok := parquet.IsSchemaChange(err); ok {
			diff.SchemaChange = sc.Error()
			out = append(out, diff)
			continue
		}
		if err != nil {
			return nil, tableError(c.Path, diff.Spec, err)
		}
		diff.Rows = rows
		out = append(out, diff)
	}
	return out, nil
}

// tableDiffOf is a change without its rows: whether it is a table (a
// file on either side that .dxattributes makes one), how to read it, and
// whether its content is outside a sparse repository's paths.
func (r *Repo) tableDiffOf(c Change, attrs *table.Attributes) TableDiff {
	d := TableDiff{Change: c}
	spec, ok := attrs.RowTable(c.Path)
	if !ok || !isFileMode(c.Old) && !isFileMode(c.New) {
		return d
	}
	d.Table, d.Spec, d.NotFetched = true, spec, !r.fetched(c)
	return d
}

// tableError is err of a row diff of the table at path, said the way
// every row command says it.
func tableError(path string, spec table.Spec, err error) error {
	if errors.Is(err, merge.ErrInvalidRows) {
		return fmt.Errorf("%s: not a valid %s table (%w); row commands cannot read it, dx diff compares it as a file", path, spec.Format, err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

func isFileMode(e *dag.TreeEntry) bool { return e != nil && e.Mode.IsFile() }

// fetched reports whether the content of both sides of a change is here:
// in a sparse repository, only within its paths.
func (r *Repo) fetched(c Change) bool {
	if r.sparse == nil {
		return true
	}
	for _, p := range []string{c.From, c.Path} {
		if p != "" && !withinAny(p, r.sparse) {
			return false
		}
	}
	return true
}

func underAny(p string, roots []string) bool {
	if len(roots) == 0 {
		return true
	}
	for _, r := range roots {
		if r == "" || p == r || strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	return false
}

// diffSides are the two trees of a diff. When worktree is set the new side
// is the worktree (its files are read from disk, not from the store).
type diffSides struct {
	old, new dag.ID
	getter   dag.Getter
	worktree bool
}

func (r *Repo) diffSides(ctx context.Context, revs []string) (*diffSides, error) {
	switch len(revs) {
	case 2:
		a, err := r.Resolve(ctx, revs[0])
		if err != nil {
			return nil, err
		}
		b, err := r.Resolve(ctx, revs[1])
		if err != nil {
			return nil, err
		}
		return &diffSides{old: a.Commit.Tree, new: b.Commit.Tree, getter: r.Store}, nil
	case 0, 1:
		var base dag.ID
		if len(revs) == 1 {
			a, err := r.Resolve(ctx, revs[0])
			if err != nil {
				return nil, err
			}
			base = a.Commit.Tree
		} else {
			_, head, _, err := r.headCommit(ctx)
			if err != nil {
				return nil, err
			}
			base = treeOf(head)
		}
		snap, err := r.takeSnapshot(ctx, store.IngestHash, nil, "scanning", dag.ZeroID, false)
		if err != nil {
			return nil, err
		}
		if err := r.cacheHashed(ctx, snap); err != nil {
			return nil, err
		}
		return &diffSides{old: base, new: emptyToZero(snap), getter: snap.getter, worktree: true}, nil
	}
	return nil, fmt.Errorf("diff takes at most two revisions")
}

// commitSides are the trees of two commits; a zero from is the empty tree.
func (r *Repo) commitSides(ctx context.Context, from, to dag.ID) (*diffSides, error) {
	s := &diffSides{getter: r.Store}
	if !from.IsZero() {
		c, err := dag.LoadCommit(ctx, r.Store, from)
		if err != nil {
			return nil, err
		}
		s.old = c.Tree
	}
	c, err := dag.LoadCommit(ctx, r.Store, to)
	if err != nil {
		return nil, err
	}
	s.new = c.Tree
	return s, nil
}

// changesOf lists the changed paths between two sides, with the new
// side's attributes, which say which are tables.
func (r *Repo) changesOf(ctx context.Context, s *diffSides) ([]Change, *table.Attributes, error) {
	changes, err := diffChanges(ctx, s.getter, s.old, s.new)
	if err != nil {
		return nil, nil, err
	}
	attrs, err := r.attributes(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	return changes, attrs, nil
}

// attributes reads .dxattributes from the new side.
func (r *Repo) attributes(ctx context.Context, s *diffSides) (*table.Attributes, error) {
	if s.worktree {
		return r.worktreeAttributes(ctx)
	}
	return r.treeAttributes(ctx, s.new)
}

// diffTable row-diffs one changed path.
func (r *Repo) diffTable(ctx context.Context, s *diffSides, c Change, spec table.Spec) (*merge.RowDiff, error) {
	srcs, o, closeSrcs, err := r.tableSources(ctx, s, c, spec)
	if err != nil {
		return nil, err
	}
	defer closeSrcs()
	if spec.Format == table.Parquet {
		return parquet.Diff(ctx, spec.Key, srcs[0], srcs[1])
	}
	rows, err := merge.DiffRows(ctx, table.New(spec), srcs[0], srcs[1], o)
	if err == nil {
		// Reading chunks to learn that their cuts are row ends is reading.
		for _, src := range srcs {
			rows.Stats.BytesRead += src.verifiedBytes.Load()
			rows.Stats.ChunksRead += int(src.verifiedChunks.Load())
		}
	}
	return rows, err
}

// tableSources are the two versions of a changed table, as a row diff
// reads them, and what it may assume of their chunks; close releases
// them.
func (r *Repo) tableSources(ctx context.Context, s *diffSides, c Change, spec table.Spec) (srcs [2]*chunkSource, o merge.DiffOptions, close func(), err error) {
	var closers []func()
	close = func() {
		for _, f := range closers {
			f()
		}
	}
	defer func() {
		if err != nil {
			close()
		}
	}()
	for k, e := range []*dag.TreeEntry{c.Old, c.New} {
		name := c.Path
		if k == 0 && c.From != "" {
			name = c.From
		}
		if r.sparse != nil && e != nil && !withinAny(name, r.sparse) {
			return srcs, o, close, fmt.Errorf("outside this sparse repository's paths, its content was not fetched (dx pull --path %s)", name)
		}
		switch {
		case e == nil || !e.Mode.IsFile():
			srcs[k] = &chunkSource{name: name} // no rows on this side
		case k == 1 && s.worktree:
			src, err := worktreeSource(ctx, filepath.Join(r.Root, filepath.FromSlash(c.Path)), name)
			if err != nil {
				return srcs, o, close, err
			}
			closers = append(closers, src.close)
			srcs[k] = src
		default:
			src, err := r.entrySource(ctx, e, name)
			if err != nil {
				return srcs, o, close, err
			}
			srcs[k] = src
		}
	}
	o, err = r.diffOptions(ctx, spec, srcs[:]...)
	return srcs, o, close, err
}
