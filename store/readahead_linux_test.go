package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// resident counts the pages of f that the page cache holds.
func resident(t *testing.T, f *os.File, size int) int {
	t.Helper()
	m, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	pages := make([]byte, (size+os.Getpagesize()-1)/os.Getpagesize())
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(size), uintptr(unsafe.Pointer(&pages[0]))); e != 0 {
		t.Fatal(e)
	}
	n := 0
	for _, p := range pages {
		n += int(p & 1)
	}
	return n
}

// TestHintReadFillsCache: a file the page cache does not hold is read into
// it by the hint, without a read.
func TestHintReadFillsCache(t *testing.T) {
	const size = 256 << 10
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	pages := size / os.Getpagesize()
	if n := resident(t, f, size); n == pages {
		t.Fatalf("the page cache keeps all %d pages after DONTNEED: this file system cannot show a read-ahead", n)
	}
	hintRead(path, readAheadBytes)
	deadline := time.Now().Add(10 * time.Second)
	for resident(t, f, size) < pages {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d pages in the page cache after the hint", resident(t, f, size), pages)
		}
		time.Sleep(time.Millisecond)
	}
}

// openFds counts this process's open file descriptors.
func openFds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestIngestLeavesNoFileOpen: the files the read-ahead opens are read and
// closed by the ingest, or closed when it stops early (a file that cannot
// be read), and a hashed File equals the one of the file read by path.
func TestIngestLeavesNoFileOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	files := make([]IngestFile, 600)
	for i := range files {
		p := filepath.Join(dir, fmt.Sprintf("f%03d", i))
		if err := os.WriteFile(p, []byte(strings.Repeat(fmt.Sprint(i), 300+i)), 0o644); err != nil {
			t.Fatal(err)
		}
		files[i] = IngestFile{Path: p}
	}
	var s *Store
	before := openFds(t)
	res, err := s.Ingest(ctx, files, IngestOptions{Mode: IngestHash})
	if err != nil {
		t.Fatal(err)
	}
	if n := openFds(t); n != before {
		t.Fatalf("%d descriptors open after the ingest, %d before", n, before)
	}
	for _, i := range []int{0, 1, 299, 599} {
		one, err := s.Ingest(ctx, files[i:i+1], IngestOptions{Mode: IngestHash}) // no read-ahead for one file
		if err != nil {
			t.Fatal(err)
		}
		if one[0] != res[i] {
			t.Fatalf("file %d: %v read with the read-ahead, %v without", i, res[i], one[0])
		}
	}
	bad := slices.Clone(files)
	bad[100] = IngestFile{Path: filepath.Join(dir, "gone")}
	if _, err := s.Ingest(ctx, bad, IngestOptions{Mode: IngestHash}); err == nil {
		t.Fatal("an ingest of a missing file succeeded")
	}
	if n := openFds(t); n != before {
		t.Fatalf("%d descriptors open after a failed ingest, %d before", n, before)
	}
}
