package repo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/blockread"
	"github.com/dxdata/dx/internal/check"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/store"
)

// TestVerifyColdTable: the first commit of a big table whose file the page
// cache does not hold finds its one bad row at its line (the check made as
// ingest read it leaves that to the whole check, which reads the file
// again, straight from the disk where it can be: internal/blockread); the
// fixed table is checked as it is read, with no second read; with its
// keys out of order it is read again, and found good.
func TestVerifyColdTable(t *testing.T) {
	ctx := context.Background()
	r, dir := newTestRepo(t)
	if err := os.WriteFile(filepath.Join(dir, ".dxattributes"), []byte("*.csv table=csv key=id\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const rows = 700_000 // about 40 MB
	const bad = rows - 1234
	write := func(name string, badRow, swapped bool) int64 {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriter(f)
		fmt.Fprintln(w, "id,name,amount,note")
		for i := 1; i <= rows; i++ {
			id := i
			if swapped && (i == 10 || i == rows-10) {
				id = 10 + rows - 10 - i // rows 10 and rows-10 swap keys
			}
			if badRow && i == bad {
				fmt.Fprintf(w, "%d,name%d,%d\n", id, i%977, i*7) // a field short
				continue
			}
			fmt.Fprintf(w, "%d,name%d,%d.%02d,some words about row %d\n", id, i%977, i*7, i%100, i)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := blockread.Evict(f); err != nil {
			t.Fatal(err)
		}
		fi, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		return fi.Size()
	}
	write("t.csv", true, false)
	_, err := r.Commit(ctx, CommitOptions{Message: "v1"})
	var v *check.Violation
	if !errors.As(err, &v) || v.Line != bad+1 {
		t.Fatalf("commit of a table with a short row at line %d: %v", bad+1, err)
	}
	size := write("t.csv", false, false)
	res, err := r.Commit(ctx, CommitOptions{Message: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verified.Tables != 1 || res.Verified.BytesRead != size || res.Verified.AsRead != size {
		t.Fatalf("checked %+v, want one table of %d bytes checked as it was read", res.Verified, size)
	}
	size = write("u.csv", false, true)
	if res, err = r.Commit(ctx, CommitOptions{Message: "u"}); err != nil {
		t.Fatal(err)
	}
	if res.Verified.Tables != 1 || res.Verified.AsRead != 0 || res.Verified.BytesRead < size {
		t.Fatalf("checked %+v, want the table of keys out of order read again whole (%d bytes, twice to find repeats)", res.Verified, size)
	}
}

// TestVerifyIngestedUnderTreeSpec: a table checked as ingest read it
// under the worktree's .dxattributes is checked again under the new
// tree's when they differ (a commit of the table alone, the attributes'
// change left out): there its keys repeat, and the commit is refused.
func TestVerifyIngestedUnderTreeSpec(t *testing.T) {
	ctx := context.Background()
	r, dir := newTestRepo(t)
	attrs := filepath.Join(dir, ".dxattributes")
	if err := os.WriteFile(attrs, []byte("*.csv table=csv key=id\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Commit(ctx, CommitOptions{Message: "attributes"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(attrs, []byte("*.csv table=csv key=name\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Names ascend and are distinct; ids repeat.
	if err := os.WriteFile(filepath.Join(dir, "t.csv"), []byte("id,name\n1,a\n1,b\n2,c\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := r.Commit(ctx, CommitOptions{Message: "t", Paths: []string{"t.csv"}})
	var v *check.Violation
	if !errors.As(err, &v) || !strings.Contains(err.Error(), `duplicate key "1"`) {
		t.Fatalf("commit of t.csv alone, ids repeating under the committed key=id: %v", err)
	}
}

// TestSnapshotChecksNewTablesOnlyWhenAsked: the snapshot of a commit
// that checks its tables checks a new table as ingest reads it; that of
// dx commit --no-verify (which checks nothing) does not spend the work.
func TestSnapshotChecksNewTablesOnlyWhenAsked(t *testing.T) {
	ctx := context.Background()
	r, dir := newTestRepo(t)
	if err := os.WriteFile(filepath.Join(dir, ".dxattributes"), []byte("*.csv table=csv key=id\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "t.csv"), []byte("id,v\n1,a\n2,b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, checkNew := range []bool{false, true} {
		snap, err := r.takeSnapshot(ctx, store.IngestStore, nil, "test", dag.ZeroID, checkNew)
		if err != nil {
			t.Fatal(err)
		}
		n := findNode(snap.root, "t.csv")
		if n == nil {
			t.Fatal("t.csv not in the snapshot")
		}
		if (n.ingested != nil) != checkNew {
			t.Fatalf("checkNew %v: checked as read %v", checkNew, n.ingested != nil)
		}
		if checkNew {
			if rows, ok := n.ingested.Result(table.Spec{Format: table.CSV, Key: []string{"id"}}, 1); !ok || rows != 2 {
				t.Fatalf("a good new table of 2 rows checked as read: %d rows, %v", rows, ok)
			}
		}
	}
}
