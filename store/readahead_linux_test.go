package store

import (
	"os"
	"path/filepath"
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
