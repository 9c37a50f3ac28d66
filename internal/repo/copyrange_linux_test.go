package repo

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/dxdata/dx/internal/blockread"
	"github.com/dxdata/dx/internal/progress"
	"golang.org/x/sys/unix"
)

// TestSplitHead: a run is cut before a block boundary only where its
// offsets in the two files agree modulo the block and whole blocks
// follow the cut.
func TestSplitHead(t *testing.T) {
	for _, c := range []struct {
		pos, off, n, head int64
		ok                bool
	}{
		{pos: 100, off: 100, n: 3 * cloneBlock, head: cloneBlock - 100, ok: true},
		{pos: 100 + 5*cloneBlock, off: 100, n: 3 * cloneBlock, head: cloneBlock - 100, ok: true},
		{pos: 100, off: 101, n: 3 * cloneBlock}, // the blocks never line up
		{pos: 0, off: 0, n: 3 * cloneBlock},     // aligned already: no head
		{pos: 100, off: 100, n: cloneBlock},     // no whole block after the head
		{pos: 100, off: 100, n: 2*cloneBlock - 100, head: cloneBlock - 100, ok: true},
	} {
		head, ok := splitHead(c.pos, c.off, c.n)
		if ok != c.ok || (ok && head != c.head) {
			t.Errorf("splitHead(%d, %d, %d) = %d, %v; want %d, %v", c.pos, c.off, c.n, head, ok, c.head, c.ok)
		}
	}
}

// randomSource writes n random bytes to dir/src and returns them and the
// file, open.
func randomSource(t *testing.T, dir string, n int, seed uint64) ([]byte, *os.File) {
	t.Helper()
	data := make([]byte, n)
	rng := rand.New(rand.NewPCG(seed, seed+1))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	path := filepath.Join(dir, "src")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return data, src
}

// TestCopyRange: runs copied at offsets that agree modulo the block
// (within the kernel, cut at a block boundary) and that do not (through
// the buffers, many to a buffer, longer than one too) give the bytes a
// plain copy gives, and between is called after each batch.
func TestCopyRange(t *testing.T) {
	dir := t.TempDir()
	data, src := randomSource(t, dir, 2*copyBuffer+64*cloneBlock, 1)
	dst, err := os.Create(filepath.Join(dir, "dst"))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	var want []byte
	a := &assembly{}
	put := func(b []byte) {
		if _, err := dst.WriteAt(b, int64(len(want))); err != nil {
			t.Fatal(err)
		}
		want = append(want, b...)
	}
	run := func(off, n int64) {
		a.runs = append(a.runs, copyRun{dst: int64(len(want)), off: off, n: n})
		want = append(want, data[off:off+n]...)
	}
	put(data[:300])
	run(300, 5*cloneBlock+17) // same offset, unaligned: cut
	put([]byte("an edit of the same length"))
	run(int64(len(want)), 3*cloneBlock) // same offset again
	put([]byte("longer"))
	run(1000, 9*cloneBlock+5) // shifted: copied whole
	run(0, 100)               // short
	run(7*cloneBlock, 2*cloneBlock)
	run(77, int64(len(data))-77) // shifted, longer than the buffer
	for i := range 40 {
		run(int64(i*1000+3), 999) // many to a buffer
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	betweens := 0
	if err := <-a.copyRuns(ctx, cancel, dst, src, progress.Nop{}.Start("", 0, false), func() { betweens++ }); err != nil {
		t.Fatal(err)
	}
	// A batch for each run within the kernel, and for each buffer of
	// those through memory.
	var kernel, memory int64
	for _, r := range a.runs {
		if inKernel(r.dst, r.off) {
			kernel++
		} else {
			memory += r.n
		}
	}
	if want := kernel + (memory+copyBuffer-1)/copyBuffer; kernel < 2 || int64(betweens) < want {
		t.Errorf("between was called %d times, with %d runs within the kernel; want a call after each batch, at least %d", betweens, kernel, want)
	}
	got, err := os.ReadFile(dst.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("dst differs from the copy through memory (%d bytes, want %d)", len(got), len(want))
	}
}

// TestWriteVecAt: pieces of every length, empty ones too, land one after
// another at the offset, as one joined write would put them.
func TestWriteVecAt(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := rand.New(rand.NewPCG(1, 2))
	var bufs [][]byte
	var want []byte
	for i := range 3000 { // more than one call takes
		b := make([]byte, r.IntN(700)*(i%7))
		for j := range b {
			b[j] = byte(i + j*7)
		}
		bufs = append(bufs, b)
		want = append(want, b...)
	}
	bufs = append(bufs, nil, []byte{}) // empty ones last too
	const off = 12345
	if err := writeVecAt(f, bufs, off); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != off+len(want) || !bytes.Equal(got[off:], want) {
		t.Fatalf("read back %d bytes, want %d after the offset, equal", len(got), off+len(want))
	}
}

// TestCopyRunsCold: from a source the page cache does not hold, read
// directly and written from the blocks read, shifted runs across the
// reader's blocks, aligned ones and many short ones give the bytes a
// plain copy gives; a run past the source's end is io.ErrUnexpectedEOF.
func TestCopyRunsCold(t *testing.T) {
	dir := t.TempDir()
	data, src := randomSource(t, dir, 11<<20+333, 5)
	rng := rand.New(rand.NewPCG(5, 6))
	copyCold := func(a *assembly) error {
		t.Helper()
		if err := blockread.Evict(src); err != nil {
			t.Fatal(err)
		}
		// Where the file system takes direct reads, the copy must use them.
		d := a.direct(src)
		if fd, err := unix.Open(src.Name(), unix.O_RDONLY|unix.O_DIRECT, 0); err == nil {
			unix.Close(fd)
			if d == nil {
				t.Fatal("a cold source, and direct reads allowed here, but the copy would read it through the page cache")
			}
		}
		d.Close()
		dst, err := os.Create(filepath.Join(dir, "dst"))
		if err != nil {
			t.Fatal(err)
		}
		defer dst.Close()
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		return <-a.copyRuns(ctx, cancel, dst, src, progress.Nop{}.Start("", 0, false), nil)
	}
	var want []byte
	a := &assembly{}
	run := func(off, n int64) {
		a.runs = append(a.runs, copyRun{dst: int64(len(want)), off: off, n: n})
		want = append(want, data[off:off+n]...)
	}
	run(5, 3<<20)                       // shifted, within the first block
	run(int64(len(want)), 6*cloneBlock) // same offset: within the kernel
	run(4<<20-1000, 5<<20)              // shifted, across a block's end
	for i := range 200 {
		run(int64(i)*40_000+17, 1+int64(rng.IntN(9000))) // many to a buffer
	}
	run(2<<20, int64(len(data))-2<<20) // to the end, across the rest
	if err := copyCold(a); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "dst"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("dst differs from the copy through memory (%d bytes, want %d)", len(got), len(want))
	}
	short := &assembly{runs: []copyRun{{dst: 7, off: int64(len(data)) - 5<<20, n: 5<<20 + 1}}}
	if err := copyCold(short); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("a run past the source's end: %v, want %v", err, io.ErrUnexpectedEOF)
	}
}

// TestPreallocate: a file preallocated keeps its size (0, then what is
// written), with its blocks allocated where the file system allows
// fallocate; one under preallocMin gets none.
func TestPreallocate(t *testing.T) {
	dir := t.TempDir()
	blocks := func(f *os.File) int64 {
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			t.Fatal(err)
		}
		return st.Blocks * 512
	}
	f, err := os.Create(filepath.Join(dir, "big"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const size = 8 << 20
	preallocate(f, size)
	fi, err := f.Stat()
	if err != nil || fi.Size() != 0 {
		t.Fatalf("preallocated: size %v, %v; want 0", fi.Size(), err)
	}
	probe, err := os.Create(filepath.Join(dir, "probe"))
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	if unix.Fallocate(int(probe.Fd()), unix.FALLOC_FL_KEEP_SIZE, 0, 4096) == nil && blocks(f) < size {
		t.Fatalf("%d bytes allocated, want %d", blocks(f), size)
	}
	if _, err := f.WriteAt([]byte("a short file stays short"), 0); err != nil {
		t.Fatal(err)
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != 24 {
		t.Fatalf("written: size %v, %v; want 24", fi.Size(), err)
	}
	small, err := os.Create(filepath.Join(dir, "small"))
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	if preallocate(small, preallocMin-1); blocks(small) != 0 {
		t.Fatalf("a file under preallocMin got %d bytes allocated", blocks(small))
	}
}
