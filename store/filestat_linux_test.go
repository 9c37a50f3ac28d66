package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestIngestStat: Ingest fills IngestFile.Stat from the descriptor it reads
// with what an lstat of the path gives, and refuses a path that is not a
// regular file when opened (a FIFO, opened without blocking; a directory).
func TestIngestStat(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	plain, exec := filepath.Join(dir, "plain"), filepath.Join(dir, "exec")
	if err := os.WriteFile(plain, []byte("some bytes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exec, make([]byte, 300<<10), 0o750); err != nil {
		t.Fatal(err)
	}
	stats := make([]FileStat, 2)
	files := []IngestFile{{Path: plain, Stat: &stats[0]}, {Path: exec, Stat: &stats[1]}}
	var s *Store
	res, err := s.Ingest(ctx, files, IngestOptions{Mode: IngestHash})
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		var st syscall.Stat_t
		if err := syscall.Lstat(f.Path, &st); err != nil {
			t.Fatal(err)
		}
		want := FileStat{Size: st.Size, MtimeNs: st.Mtim.Nano(), CtimeNs: st.Ctim.Nano(), Inode: st.Ino, Exec: i == 1}
		if stats[i] != want {
			t.Errorf("%s: stat %+v, want %+v", f.Path, stats[i], want)
		}
		if res[i].Size != uint64(st.Size) {
			t.Errorf("%s: read %d bytes, want %d", f.Path, res[i].Size, st.Size)
		}
	}

	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, dir} {
		var st FileStat
		_, err := s.Ingest(ctx, []IngestFile{{Path: p, Stat: &st}}, IngestOptions{Mode: IngestHash})
		if !errors.Is(err, ErrNotRegular) {
			t.Errorf("ingest of %s with Stat: %v, want ErrNotRegular", p, err)
		}
	}
}
