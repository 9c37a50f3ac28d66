package worktree

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dxdata/dx/store"
)

// TestStamp: an entry recorded at a Stamp is trusted only if a write to
// its file after the stamp would change the file's mtime, whether the
// file was written long before or just before; and a read-only store's
// stamp is the wall clock, writing nothing.
func TestStamp(t *testing.T) {
	s := openStore(t)
	path := filepath.Join(t.TempDir(), "f")
	mtime := func() int64 {
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.ModTime().UnixNano()
	}
	trusted := 0
	for i := range 300 {
		if err := os.WriteFile(path, []byte{byte(i)}, 0o644); err != nil {
			t.Fatal(err)
		}
		switch i % 3 {
		case 0: // long before: trusted at once
			old := time.Now().Add(-time.Hour)
			os.Chtimes(path, old, old)
		case 1: // set ahead of the clock: never trusted
			ahead := time.Now().Add(time.Second)
			os.Chtimes(path, ahead, ahead)
		}
		e := StatEntry{Size: 1, MtimeNs: mtime(), Recorded: Stamp(s)}
		if fs := e.Recorded - RacyWindowNs; fs > time.Now().UnixNano() {
			t.Fatalf("stamp %d: the file system's clock %d is ahead of the wall clock", i, fs)
		}
		if i%3 == 1 && e.Trusted() {
			t.Fatalf("stamp %d: a file with an mtime ahead of the stamp is trusted", i)
		}
		if !e.Trusted() {
			if i%3 == 0 {
				t.Fatalf("stamp %d: a file written an hour ago is not trusted", i)
			}
			continue
		}
		trusted++
		if err := os.WriteFile(path, []byte{byte(i + 1)}, 0o644); err != nil {
			t.Fatal(err)
		}
		if mtime() == e.MtimeNs {
			t.Fatalf("stamp %d: trusted, but a write after it left the mtime as it was", i)
		}
	}
	if trusted < 100 {
		t.Fatalf("only %d of 200 entries trusted", trusted)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), clockFileName)); err != nil {
		t.Fatalf("no clock marker: %v", err)
	}

	dir := filepath.Join(t.TempDir(), ".dx")
	if err := store.Init(dir); err != nil {
		t.Fatal(err)
	}
	ro, err := store.Open(context.Background(), dir, store.Options{Access: store.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	before := time.Now().UnixNano()
	if st := Stamp(ro); st < before || st > time.Now().UnixNano() {
		t.Fatalf("read-only stamp %d is not the wall clock", st)
	}
	if _, err := os.Stat(filepath.Join(dir, clockFileName)); !os.IsNotExist(err) {
		t.Fatalf("a read-only store's stamp wrote its marker (%v)", err)
	}
}
