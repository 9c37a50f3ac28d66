package repo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/dxdata/dx/internal/blockread"
	"github.com/dxdata/dx/internal/check"
)

// TestVerifyColdTable: the first commit of a big table whose file the page
// cache does not hold (read whole by the check, straight from the disk
// where it can be: internal/blockread) finds its one bad row at its line,
// and commits the table once the row is fixed.
func TestVerifyColdTable(t *testing.T) {
	ctx := context.Background()
	r, dir := newTestRepo(t)
	if err := os.WriteFile(filepath.Join(dir, ".dxattributes"), []byte("*.csv table=csv key=id\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const rows = 700_000 // about 40 MB
	const bad = rows - 1234
	write := func(badRow bool) {
		f, err := os.Create(filepath.Join(dir, "t.csv"))
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriter(f)
		fmt.Fprintln(w, "id,name,amount,note")
		for i := 1; i <= rows; i++ {
			if badRow && i == bad {
				fmt.Fprintf(w, "%d,name%d,%d\n", i, i%977, i*7) // a field short
				continue
			}
			fmt.Fprintf(w, "%d,name%d,%d.%02d,some words about row %d\n", i, i%977, i*7, i%100, i)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := blockread.Evict(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	write(true)
	_, err := r.Commit(ctx, CommitOptions{Message: "v1"})
	var v *check.Violation
	if !errors.As(err, &v) || v.Line != bad+1 {
		t.Fatalf("commit of a table with a short row at line %d: %v", bad+1, err)
	}
	write(false)
	res, err := r.Commit(ctx, CommitOptions{Message: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "t.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Verified.Tables != 1 || res.Verified.BytesRead != fi.Size() {
		t.Fatalf("checked %+v, want the whole table", res.Verified)
	}
}
