package tui

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
)

// countingFiles is a FileReader over texts by path that counts its reads.
type countingFiles struct {
	texts map[string]string
	cats  int
}

func (f *countingFiles) Cat(_ context.Context, _ dag.ID, path string, w io.Writer) error {
	f.cats++
	_, err := io.WriteString(w, f.texts[path])
	return err
}

func (f *countingFiles) CompareChunks(context.Context, *dag.TreeEntry, *dag.TreeEntry) (repo.ChunkCounts, error) {
	return repo.ChunkCounts{Old: 40, New: 41, Shared: 39}, nil
}

func TestReadFileChange(t *testing.T) {
	ctx := context.Background()
	file := &dag.TreeEntry{Mode: dag.ModeFile}
	t.Run("too_large", func(t *testing.T) {
		f := &countingFiles{}
		c := repo.Change{Kind: repo.Modified, Path: "big.log", Old: file, New: file, OldSize: 3 << 20, NewSize: 3<<20 + 5}
		fc, err := readFileChange(ctx, f, dag.ID{1}, dag.ID{2}, c)
		if err != nil || f.cats != 0 || fc.lines != nil || !strings.Contains(fc.why, "larger than 1.0 MiB") || fc.chunks.Shared != 39 {
			t.Errorf("%d reads, %+v, %v; want no read, the chunk counts", f.cats, fc, err)
		}
	})
	t.Run("renamed_and_changed", func(t *testing.T) {
		f := &countingFiles{texts: map[string]string{"old.txt": "a\nb\n", "new.txt": "a\nc\n"}}
		c := repo.Change{Kind: repo.Renamed, From: "old.txt", Path: "new.txt", Old: file, New: file, OldSize: 4, NewSize: 4}
		fc, err := readFileChange(ctx, f, dag.ID{1}, dag.ID{2}, c)
		want := "--- a/old.txt\n+++ b/new.txt\n@@ -1,2 +1,2 @@\n a\n-b\n+c"
		if err != nil || strings.Join(fc.lines, "\n") != want || fc.added != 1 || fc.removed != 1 {
			t.Errorf("%+v, %v; want\n%s", fc, err, want)
		}
	})
	t.Run("control_characters", func(t *testing.T) {
		f := &countingFiles{texts: map[string]string{"t.txt": "\x1b[2Jclear\tme\n"}}
		c := repo.Change{Kind: repo.Added, Path: "t.txt", New: file, NewSize: 13}
		fc, err := readFileChange(ctx, f, dag.ID{}, dag.ID{2}, c)
		if err != nil || len(fc.lines) != 4 || fc.lines[0] != "--- /dev/null" || fc.lines[3] != "+?[2Jclear    me" {
			t.Errorf("%q, %v", fc.lines, err)
		}
	})
}
