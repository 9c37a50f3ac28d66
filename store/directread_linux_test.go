package store

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/dxdata/dx/internal/blockread"
	"golang.org/x/sys/unix"
)

// writeCold writes data to a new file and drops its pages from the page
// cache, as a file read long after it was written.
func writeCold(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := blockread.Evict(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

// readAllBy reads r to its end in reads of random sizes, as the chunker's
// buffer leaves room.
func readAllBy(t *testing.T, r io.Reader, rng *rand.Rand) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, 3<<20)
	for {
		n, err := r.Read(buf[:1+rng.IntN(len(buf))])
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// directSupported says whether the file system under dir takes O_DIRECT.
func directSupported(t *testing.T, path string) bool {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		t.Logf("O_DIRECT refused here (%v): every read goes through the cache", err)
		return false
	}
	syscall.Close(fd)
	var cs unix.Cachestat_t
	if err := unix.Cachestat(uint(fd), &unix.CachestatRange{}, &cs, 0); err == syscall.ENOSYS {
		t.Logf("no cachestat here: every read goes through the cache")
		return false
	}
	return true
}

// TestDirectReads: a cold file past directFrom reads to the same bytes
// whatever the sizes of the reads, its rest in direct blocks; the same
// file in the page cache is read through it.
func TestDirectReads(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, size := range []int{directFrom - 1, directFrom + readAheadRoom, directFrom + readAheadRoom + 3*(4<<20) + 12345, 64<<20 + 1} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		path := writeCold(t, data)
		direct := directSupported(t, path)
		for _, cold := range []bool{true, false} {
			if !cold { // (cold already: writeCold evicted it)
				if b, err := os.ReadFile(path); err != nil || !bytes.Equal(b, data) {
					t.Fatalf("warming the file: %v", err)
				}
			}
			rc, err := openRead(path)
			if err != nil {
				t.Fatal(err)
			}
			got := readAllBy(t, rc, rng)
			f := rc.(*rawFile)
			usedDirect := f.dr != nil
			if err := rc.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("size %d, cold %v: read %d bytes, not the file's %d", size, cold, len(got), len(data))
			}
			wantDirect := direct && cold && size >= directFrom+readAheadRoom+8<<20
			if usedDirect != wantDirect {
				t.Errorf("size %d, cold %v: direct reads %v, want %v", size, cold, usedDirect, wantDirect)
			}
		}
	}
}

// TestDirectReadShrunk: a file cut short while it is read ends where it
// now ends, with no error and no stale bytes.
func TestDirectReadShrunk(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), (directFrom+readAheadRoom+16<<20)/16)
	path := writeCold(t, data)
	rc, err := openRead(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	first := make([]byte, directFrom+100)
	if _, err := io.ReadFull(rc, first); err != nil {
		t.Fatal(err)
	}
	cut := directFrom + 4<<20 + 5
	if err := os.Truncate(path, int64(cut)); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if directSupported(t, path) && rc.(*rawFile).dr == nil {
		t.Fatal("the cold file was read through the cache")
	}
	// The block read ahead before the cut may hold the old bytes; what
	// follows it must not.
	if got := len(first) + len(rest); got > cut+4<<20 || got < cut {
		t.Fatalf("read %d bytes of a file cut to %d", got, cut)
	}
	if !bytes.Equal(append(first, rest...), data[:len(first)+len(rest)]) {
		t.Fatal("bytes differ from the file's")
	}
}

// TestDirectReadReplaced: a file replaced under its path (a rename over
// it) while it is read is read to its end from the file opened, never
// from the new one.
func TestDirectReadReplaced(t *testing.T) {
	data := bytes.Repeat([]byte("old."), (directFrom+readAheadRoom+16<<20)/4)
	path := writeCold(t, data)
	rc, err := openRead(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	first := make([]byte, 1<<20)
	if _, err := io.ReadFull(rc, first); err != nil {
		t.Fatal(err)
	}
	other := writeCold(t, bytes.Repeat([]byte("new!"), len(data)/4))
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(first, rest...), data) {
		t.Fatal("read bytes of the file that replaced it")
	}
	if rc.(*rawFile).dr != nil {
		t.Fatal("read the rest by the path, which names another file now")
	}
}
