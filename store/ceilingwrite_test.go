package store

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// ceilingFiles writes n files, half text and half random, into a new
// directory and returns them for Ingest.
func ceilingFiles(t *testing.T, n int) []IngestFile {
	t.Helper()
	dir := t.TempDir()
	var files []IngestFile
	for i := range n {
		var data []byte
		if i%2 == 0 {
			data = bytes.Repeat([]byte("id,name,value\n1,alpha,3.25\n"), 200+i*37)
		} else {
			data = randData(uint64(i), 3000+i*911)
		}
		p := filepath.Join(dir, "f"+string(rune('a'+i%26))+strings.Repeat("x", i/26))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, IngestFile{Path: p})
	}
	return files
}

// TestCeilingWriter: the ceiling's writes hold exactly the bytes it
// compressed, in packs of the size asked for (but for each worker's last),
// all renamed into place, and the compression is the ceiling's own.
func TestCeilingWriter(t *testing.T) {
	ctx := context.Background()
	files := ceilingFiles(t, 60)
	var plain atomic.Int64
	var s *Store
	if _, err := s.Ingest(ctx, files, IngestOptions{Mode: IngestCompressOnly, StoredBytes: &plain, Workers: 2}); err != nil {
		t.Fatal(err)
	}

	out := t.TempDir()
	const packSize = 64 << 10
	cw := NewCeilingWriter(out, 2, packSize)
	var stored atomic.Int64
	_, err := s.Ingest(ctx, files, IngestOptions{Mode: IngestCompressOnly, StoredBytes: &stored, Workers: 2, Sink: cw})
	if cerr := cw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if stored.Load() != plain.Load() || stored.Load() == 0 {
		t.Fatalf("stored %d bytes writing, %d without", stored.Load(), plain.Load())
	}
	ents, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	short := 0
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "ceiling-") || !strings.HasSuffix(e.Name(), ".pack") {
			t.Errorf("unexpected file %s", e.Name())
		}
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
		if fi.Size() < packSize {
			short++
		}
	}
	if total != stored.Load() {
		t.Errorf("wrote %d bytes in %d packs, compressed %d", total, len(ents), stored.Load())
	}
	if least := stored.Load() / (2 * packSize); int64(len(ents)) < least || short > 2 {
		t.Errorf("%d packs, %d of them short, for %d bytes", len(ents), short, stored.Load())
	}
}

// TestCeilingWriterFails: a write that fails fails the ceiling, and the
// workers are not left waiting.
func TestCeilingWriterFails(t *testing.T) {
	files := ceilingFiles(t, 40)
	out := filepath.Join(t.TempDir(), "gone")
	cw := NewCeilingWriter(out, 2, 64<<10) // out does not exist
	var s *Store
	_, err := s.Ingest(context.Background(), files, IngestOptions{Mode: IngestCompressOnly, Workers: 2, Sink: cw})
	cerr := cw.Close()
	if err == nil && cerr == nil {
		t.Fatal("writing into a missing directory succeeded")
	}
	if cerr == nil || !errors.Is(cerr, fs.ErrNotExist) {
		t.Errorf("Close: %v, want the missing directory", cerr)
	}
}
