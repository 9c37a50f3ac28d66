package repo

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync/atomic"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/check"
	"github.com/dxdata/dx/internal/contract"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/internal/worktree"
)

// unverifiedMeta is the commit metadata key of a commit made with
// --no-verify: its tables were stored without being checked.
const unverifiedMeta = "dx.unverified"

// verifyTables checks, before a commit of tree newTree on oldTree, that
// every table it adds or changes is a table under .dxattributes and keeps
// the data contract (dx.contract.yaml), and that both files parse when
// they changed. The cost follows the
// change (see internal/check); a table whose spec changed is read whole.
func (r *Repo) verifyTables(ctx context.Context, oldTree, newTree dag.ID, changes []Change, run verifyRun) error {
	attrsChanged := slices.ContainsFunc(changes, func(c Change) bool {
		return c.Path == table.AttributesFile || c.From == table.AttributesFile
	})
	newAttrs, err := r.treeAttributes(ctx, newTree)
	if err != nil {
		if !attrsChanged {
			// Unparsable since an earlier --no-verify: nothing here is a
			// table until it is fixed.
			r.warn(fmt.Sprintf("%v; no file is checked as a table", err))
			return nil
		}
		return &check.Violation{Msg: err.Error()}
	}
	oldAttrs, err := r.treeAttributes(ctx, oldTree)
	if err != nil {
		oldAttrs = nil // its tables are checked whole
	}
	// The data contract in force is the new tree's; when it changed, the
	// tables it covers are checked whole.
	contractChanged := slices.ContainsFunc(changes, func(c Change) bool {
		return c.Path == contract.File || c.From == contract.File
	})
	rules, err := r.treeContract(ctx, newTree)
	if err != nil {
		if !contractChanged {
			r.warn(fmt.Sprintf("%v; no table is checked against it", err))
		} else {
			return &check.Violation{Msg: err.Error()}
		}
	}
	if contractChanged || attrsChanged {
		if err := r.contractPaths(ctx, newTree, rules, newAttrs); err != nil {
			return err
		}
	}
	// checked: the changed files, which the whole-tree pass below (only
	// when the attributes or the contract changed) need not read again.
	wholeTree := attrsChanged || contractChanged
	checked := map[string]bool{}
	for _, c := range changes {
		if c.New == nil || !c.New.Mode.IsFile() {
			continue
		}
		if wholeTree {
			checked[c.Path] = true
		}
		spec, ok := newAttrs.RowTable(c.Path)
		if !ok {
			continue
		}
		from := c.Path
		if c.From != "" {
			from = c.From
		}
		tr := rulesFor(rules, c.Path, spec)
		if spec.Format == table.Parquet && tr == nil {
			continue // a Parquet table is read at commit for its contract alone
		}
		var old *dag.TreeEntry
		if oldSpec, ok := oldAttrs.RowTable(from); ok && sameSpec(oldSpec, spec) && c.Old != nil && c.Old.Mode.IsFile() && !(contractChanged && tr != nil) {
			old = c.Old
		}
		if err := r.verifyTable(ctx, run, tableVersion{path: c.Path, spec: spec, old: old, new: c.New, rules: tr}); err != nil {
			return err
		}
	}
	if !wholeTree {
		return nil
	}
	// Tables the new .dxattributes declares, or declares otherwise, that
	// did not change: read whole, once.
	return dag.WalkTree(ctx, r.Store, newTree, func(p string, e dag.TreeEntry) error {
		if !e.Mode.IsFile() || checked[p] {
			return nil
		}
		spec, ok := newAttrs.RowTable(p)
		if !ok {
			return nil
		}
		tr := rulesFor(rules, p, spec)
		if spec.Format == table.Parquet && tr == nil {
			return nil
		}
		if oldSpec, ok := oldAttrs.RowTable(p); ok && sameSpec(oldSpec, spec) && !(contractChanged && tr != nil) {
			return nil
		}
		return r.verifyTable(ctx, run, tableVersion{path: p, spec: spec, new: &e, rules: tr})
	})
}

// VerifyStats count what checking the tables of a commit read.
type VerifyStats struct {
	Tables    int   `json:"tables_checked"`
	BytesRead int64 `json:"table_bytes_checked"` // of the new and old versions, uncompressed
	// AsRead: of BytesRead, those checked as ingest read them (a new
	// table's), not read again.
	AsRead int64 `json:"table_bytes_checked_as_read"`
}

// count makes src count the bytes read from it into st.
func (st *VerifyStats) count(src *chunkSource) {
	read := src.read
	src.read = func(ctx context.Context, i int, dst []byte) ([]byte, error) {
		out, err := read(ctx, i, dst)
		if err == nil {
			atomic.AddInt64(&st.BytesRead, int64(len(out)-len(dst)))
		}
		return out, err
	}
}

func sameSpec(a, b table.Spec) bool { return a.SameReading(b) }

// verifyRun is what one commit's table check is given and counts.
type verifyRun struct {
	// statOf, if set, gives the stat a file had when it was read into
	// the store (see verifyTable).
	statOf func(p string) (worktree.StatEntry, bool)
	// ingested, if set, gives the check made of a file as it was read
	// into the store as File id, or nil.
	ingested func(p string, id dag.ID) *check.Ingested
	stats    *VerifyStats
}

// tableVersion is a version of a table to check: new, at path, against
// old if set (a version of the same spec that was checked).
type tableVersion struct {
	path     string
	spec     table.Spec
	old, new *dag.TreeEntry
	rules    check.Rules // the data contract's, if any
}

// verifyTable checks one version of a table.
func (r *Repo) verifyTable(ctx context.Context, run verifyRun, v tableVersion) (err error) {
	p, spec := v.path, v.spec
	if !r.inSparse(p) {
		return nil // not here to read: it was checked where it was committed
	}
	run.stats.Tables++
	t := table.New(spec)
	src, err := r.entrySource(ctx, v.new, p)
	if err != nil {
		return err
	}
	if run.ingested != nil {
		r.keepIngested(ctx, run.ingested(p, v.new.ID), spec, src)
	}
	if v.old == nil && v.rules == nil && run.ingested != nil {
		// Checked as it was read, if the fast reading took all of it.
		if rows, ok := run.ingested(p, v.new.ID).Result(spec, len(src.Chunks())); ok {
			run.stats.BytesRead += int64(v.new.Size)
			run.stats.AsRead += int64(v.new.Size)
			r.putRowCount(ctx, spec, v.new.ID, rows)
			return nil
		}
	}
	// Its chunks were just read from the worktree file: read them there
	// again, not decompressed from the store; without hashing them when
	// the file's stat is the one it had when it was read (and still is
	// after: else the check says so), else verified by their hashes.
	file := openCheckedOut(filepath.Join(r.Root, filepath.FromSlash(p)), v.new.Size)
	defer file.Close()
	var was worktree.StatEntry
	if file != nil && run.statOf != nil {
		var ok bool
		was, ok = run.statOf(p)
		file.trusted = ok && file.unchanged(was)
	}
	if file != nil && file.trusted {
		defer func() {
			if err == nil && !file.unchanged(was) {
				err = fmt.Errorf("%s changed while it was committed; commit again", p)
			}
		}()
	}
	src.backedBy(file)
	run.stats.count(src)
	if spec.Format == table.Parquet {
		return r.verifyParquet(ctx, run, v, src)
	}
	if v.old == nil {
		file.readWhole() // checked whole, its spans in order
	}
	newVersion, err := r.checkVersion(ctx, p, spec, src)
	if err != nil {
		return err
	}
	newVersion.Rules = v.rules
	newVersion.Ranges = r.valueRanges(ctx, spec)
	rows := int64(-1)
	newVersion.Count = &rows
	defer func() {
		if err == nil {
			r.putRowCount(ctx, spec, v.new.ID, rows)
		}
	}()
	if v.old == nil {
		bar := r.opts.Progress.Start("checking "+p, int64(v.new.Size), true)
		defer bar.Done()
		newVersion.Progress = bar.Add
		return check.Full(ctx, t, newVersion)
	}
	oldSrc, err := r.entrySource(ctx, v.old, p)
	if err != nil {
		return err
	}
	oldSrc.rangesFrom(r.Store, spec)
	run.stats.count(oldSrc)
	oldVersion, err := r.checkVersion(ctx, p, spec, oldSrc)
	if err != nil {
		return err
	}
	oldVersion.Rows = r.rowCount(ctx, spec, v.old.ID)
	oldVersion.Ranges = newVersion.Ranges
	return check.Changed(ctx, t, oldVersion, newVersion)
}

// checkVersion describes a version of a table for internal/check.
func (r *Repo) checkVersion(ctx context.Context, p string, spec table.Spec, src *chunkSource) (check.Version, error) {
	o, err := r.diffOptions(ctx, spec, src)
	if err != nil {
		return check.Version{}, err
	}
	return check.Version{Path: p, Source: src, Cut: o}, nil
}

// verifyParquet checks one version of a Parquet table against its data
// contract: the rows its row diff finds added or changed against a
// version checked before, else every row (see internal/check).
func (r *Repo) verifyParquet(ctx context.Context, run verifyRun, v tableVersion, src *chunkSource) error {
	rows := int64(-1)
	newVersion := check.Version{Path: v.path, Source: src, Rules: v.rules, Count: &rows}
	var err error
	if v.old == nil {
		err = check.ParquetFull(ctx, v.spec.Key, newVersion)
	} else {
		oldSrc, oerr := r.entrySource(ctx, v.old, v.path)
		if oerr != nil {
			return oerr
		}
		run.stats.count(oldSrc)
		err = check.ParquetChanged(ctx, v.spec.Key, check.Version{Path: v.path, Source: oldSrc}, newVersion)
	}
	if err == nil && rows >= 0 {
		r.putRowCount(ctx, v.spec, v.new.ID, rows)
	}
	return err
}
