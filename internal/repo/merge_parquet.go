package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/internal/table/parquet"
	"github.com/dxdata/dx/merge"
	"github.com/dxdata/dx/store"
)

// mergeParquet merges a keyed Parquet table both sides changed, by rows
// (parquet.Merge), and stores the result cut at its pages. handled is
// false where the table merges as a file instead: it is not in the base, a
// side is not a file, or a version is not a table dx can read or changed
// its schema (said in a warning); both sides' changes then conflict as a
// whole file, which dx checkout --ours|--theirs resolves.
func (r *Repo) mergeParquet(ctx context.Context, p string, spec table.Spec, base, ours, theirs *dag.TreeEntry) (merged *dag.TreeEntry, res *parquet.MergeResult, handled bool, err error) {
	if base == nil || ours == nil || theirs == nil || !base.Mode.IsFile() || !ours.Mode.IsFile() || !theirs.Mode.IsFile() {
		return nil, nil, false, nil
	}
	var srcs [3]*chunkSource
	for i, e := range []*dag.TreeEntry{base, ours, theirs} {
		if srcs[i], err = r.entrySource(ctx, e, p); err != nil {
			return nil, nil, false, err
		}
	}
	var out bytes.Buffer
	res, err = parquet.Merge(ctx, spec.Key, srcs[0], srcs[1], srcs[2], &out)
	if _, schema := parquet.IsSchemaChange(err); schema || errors.Is(err, merge.ErrInvalidRows) {
		r.warn(fmt.Sprintf("%s: merged as a file, not by rows: %v", p, err))
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, fmt.Errorf("merge %s: %w", p, err)
	}
	if res.Unchanged {
		return ours, res, true, nil
	}
	data := out.Bytes()
	stored, err := r.Store.Ingest(ctx, []store.IngestFile{{Name: p, Layout: store.LayoutParquet,
		Open: func() (io.ReadCloser, error) { return memFile{bytes.NewReader(data)}, nil }}},
		store.IngestOptions{Mode: store.IngestStore, Warn: r.warn})
	if err != nil {
		return nil, nil, false, fmt.Errorf("merge %s: %w", p, err)
	}
	return &dag.TreeEntry{Name: path.Base(p), Mode: ours.Mode, ID: stored[0].ID, Size: stored[0].Size}, res, true, nil
}

// memFile is bytes to ingest as a file, readable at offsets (as cutting
// Parquet at its pages needs).
type memFile struct{ *bytes.Reader }

func (f memFile) Size() (int64, error) { return f.Reader.Size(), nil }
func (f memFile) Close() error         { return nil }
