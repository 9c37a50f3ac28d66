package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/merge"
)

// newDialectRepo is a repository with attrs for .dxattributes and a data
// directory.
func newDialectRepo(t *testing.T, attrs string) (*Repo, string) {
	t.Helper()
	r, dir := newTestRepo(t)
	if err := os.WriteFile(filepath.Join(dir, ".dxattributes"), []byte(attrs), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	return r, dir
}

// otherDialectTable writes data/t.csv in the dialect of .dxattributes (';'
// and single quotes), rows 0..n-1 but those in skip, each with a quoted
// field: row's sets one row's second field, and multiline puts a line end
// inside every quoted field.
func otherDialectTable(t *testing.T, dir string, n int, skip map[int]bool, row map[int]string, multiline bool) {
	otherDialectRows(t, dir, n, skip, row, func(i int) string {
		if multiline {
			return fmt.Sprintf("'line one %d\nline two'", i%977)
		}
		return fmt.Sprintf("'a; quoted, %d'", i%977)
	})
}

// otherDialectRows writes the table with note(i) for row i's third field.
func otherDialectRows(t *testing.T, dir string, n int, skip map[int]bool, row map[int]string, note func(i int) string) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("id;name;note\n")
	for i := 0; i < n; i++ {
		if skip[i] {
			continue
		}
		name := fmt.Sprintf("name %d", i*7919%100000)
		if s, ok := row[i]; ok {
			name = s
		}
		fmt.Fprintf(&b, "%d;%s;%s\n", i, name, note(i))
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "t.csv"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestOtherDialectRowEnds: a CSV in another dialect is cut as the default
// dialect reads it. Where each chunk ends a row of its own dialect too, a
// row diff reads only the changed chunks once the chunks are known (the
// first diff reads each chunk once to learn it); where cuts fall inside
// its quoted fields, it reads across those cuts alone. Either way the
// rows are right.
func TestOtherDialectRowEnds(t *testing.T) {
	for _, multiline := range []bool{false, true} {
		t.Run(fmt.Sprintf("multiline=%v", multiline), func(t *testing.T) {
			ctx := context.Background()
			r, dir := newDialectRepo(t, "*.csv table=csv delimiter=; quote=' key=id\n")
			const n = 120000
			otherDialectTable(t, dir, n, nil, nil, multiline)
			if _, err := r.Commit(ctx, CommitOptions{Message: "v1"}); err != nil {
				t.Fatal(err)
			}
			otherDialectTable(t, dir, n+1, map[int]bool{70000: true}, map[int]string{50000: "'changed; name'"}, multiline)
			if _, err := r.Commit(ctx, CommitOptions{Message: "v2"}); err != nil {
				t.Fatal(err)
			}
			diffs, err := r.DiffRows(ctx, RowDiffOptions{Revs: []string{"HEAD~1", "HEAD"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(diffs) != 1 || diffs[0].Rows == nil {
				t.Fatalf("%d changed files, want the table", len(diffs))
			}
			d := diffs[0].Rows
			if a, rm, c := d.Counts(); a != 1 || rm != 1 || c != 1 {
				t.Fatalf("%d added, %d removed, %d changed; want 1, 1, 1", a, rm, c)
			}
			for _, ch := range d.Changes {
				if ch.Kind == merge.RowChanged && (ch.Key != "50000" || ch.New.Vals[1] != "changed; name") {
					t.Fatalf("changed row %s: %q", ch.Key, ch.New.Vals)
				}
			}
			if d.Stats.Chunks < 40 {
				t.Fatalf("%d chunks in both versions: want many", d.Stats.Chunks)
			}
			// The commits learned the chunks (checking the tables read
			// them): the diff reads what changed, and across the cuts
			// that fall inside quoted fields (here three in four: every
			// row's quoted field holds a line end), and parses the rows
			// that changed.
			maxRead := d.Stats.BytesTotal / 20
			if multiline {
				maxRead = d.Stats.BytesTotal / 4
			}
			if d.Stats.FullParse || d.Stats.BytesRead > maxRead || d.Stats.BytesParsed > d.Stats.BytesTotal/100 {
				t.Fatalf("parsed whole %v; read %d (%d chunks of %d), parsed %d of %d bytes", d.Stats.FullParse, d.Stats.BytesRead, d.Stats.ChunksRead, d.Stats.Chunks, d.Stats.BytesParsed, d.Stats.BytesTotal)
			}
			// What the chunks say is kept: unkept, they are read again,
			// each but the last, and say the same.
			src, err := r.entrySource(ctx, diffs[0].Change.New, "data/t.csv")
			if err != nil {
				t.Fatal(err)
			}
			spec := diffs[0].Spec
			for _, kept := range []bool{true, false} {
				ends := rowEnds{}
				if kept {
					ends = r.rowEnds()
				}
				src.verifiedChunks.Store(0)
				ok, err := src.rowAligned(ctx, spec, ends)
				if err != nil || !ok || (len(src.inside) > 0) != multiline {
					t.Fatalf("kept %v: aligned %v, %v; %d cuts inside rows, multiline %v", kept, ok, err, len(src.inside), multiline)
				}
				read := src.verifiedChunks.Load()
				switch {
				case kept && read != 0:
					t.Fatalf("kept: %d chunks read", read)
				case !kept && read != int64(len(src.chunks)-1):
					t.Fatalf("not kept: %d chunks read of %d", read, len(src.chunks))
				}
			}
		})
	}
}

// TestOtherDialectLearnedAsIngested: the first commit of a table in
// another dialect reads it as it is ingested, and what that reading learns
// of each chunk's end is kept: nothing is read again to learn it.
func TestOtherDialectLearnedAsIngested(t *testing.T) {
	ctx := context.Background()
	r, dir := newDialectRepo(t, "*.csv table=csv delimiter=; key=id\n")
	otherDialectRows(t, dir, 120000, nil, nil, func(i int) string { return fmt.Sprintf("note %d, unquoted", i%977) })
	if _, err := r.Commit(ctx, CommitOptions{Message: "v1"}); err != nil {
		t.Fatal(err)
	}
	head, err := r.Resolve(ctx, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	e, err := dag.LookupPath(ctx, r.Store, head.Commit.Tree, "data/t.csv")
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := r.treeAttributes(ctx, head.Commit.Tree)
	if err != nil {
		t.Fatal(err)
	}
	spec, ok := attrs.RowTable("data/t.csv")
	if !ok {
		t.Fatal("data/t.csv is not a table")
	}
	src, err := r.entrySource(ctx, &e, "data/t.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(src.chunks) < 20 {
		t.Fatalf("%d chunks: want many", len(src.chunks))
	}
	aligned, err := src.rowAligned(ctx, spec, r.rowEnds())
	if err != nil || !aligned {
		t.Fatalf("aligned %v, %v", aligned, err)
	}
	if n := src.verifiedChunks.Load(); n != 0 {
		t.Fatalf("%d chunks of %d read again to learn their ends", n, len(src.chunks))
	}
	// A chunk that cannot be read is the error, not the others' being
	// stopped by it: chunk 1 is read until the reading stops (or a while,
	// with one worker), and chunk 2 cannot be.
	bad := errors.New("unreadable chunk")
	inner := src.read
	src.read = func(ctx context.Context, i int, dst []byte) ([]byte, error) {
		switch i {
		case 1:
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(2 * time.Second):
			}
		case 2:
			return nil, bad
		}
		return inner(ctx, i, dst)
	}
	if _, err := src.rowAligned(ctx, spec, rowEnds{}); !errors.Is(err, bad) {
		t.Fatalf("a chunk unread: %v", err)
	}
}

// TestQuotedLineEndsLearnedAsIngested: the first commit of a table of
// another dialect whose quoted fields hold line ends learns each chunk's
// transitions as ingest reads it, so its check reads the table once, not a
// second time to learn where its rows end; a diff after reads nothing to
// learn them either.
func TestQuotedLineEndsLearnedAsIngested(t *testing.T) {
	ctx := context.Background()
	r, dir := newDialectRepo(t, "*.csv table=csv delimiter=; quote=' key=id\n")
	const n = 120000
	otherDialectTable(t, dir, n, nil, nil, true)
	st, err := os.Stat(filepath.Join(dir, "data", "t.csv"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Commit(ctx, CommitOptions{Message: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verified.BytesRead > st.Size() {
		t.Fatalf("the first commit's check read %d bytes of a %d-byte table", res.Verified.BytesRead, st.Size())
	}
	otherDialectTable(t, dir, n, nil, map[int]string{60000: "'changed'"}, true)
	if _, err := r.Commit(ctx, CommitOptions{Message: "v2"}); err != nil {
		t.Fatal(err)
	}
	diffs, err := r.DiffRows(ctx, RowDiffOptions{Revs: []string{"HEAD~1", "HEAD"}})
	if err != nil || len(diffs) != 1 || diffs[0].Rows == nil {
		t.Fatalf("%d diffs, %v", len(diffs), err)
	}
	if d := diffs[0].Rows; d.Stats.FullParse || d.Stats.BytesRead > d.Stats.BytesTotal/4 {
		t.Fatalf("parsed whole %v, read %d of %d bytes", d.Stats.FullParse, d.Stats.BytesRead, d.Stats.BytesTotal)
	}
}
