package store

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"github.com/dxdata/dx/internal/hugeheap"
)

// alignment of buffers and lengths for direct I/O.
const alignment = 4096

// alignedBuf is a growable byte buffer whose start is aligned for direct
// I/O. It is an io.Writer. Growth past its capacity loses the alignment;
// writeFileDirect then copies.
type alignedBuf struct {
	b []byte
	// For a buffer from hugeheap.Map: base is its aligned memory (b starts
	// there again on reset, even if b grew elsewhere) and mapping what
	// free releases. Both nil for a buffer on the Go heap.
	base, mapping []byte
}

func newAlignedBuf(capacity int) *alignedBuf {
	return &alignedBuf{b: alignedSlice(capacity)[:0]}
}

// newHugeBuf is newAlignedBuf for a large buffer that lives long (a data
// pack buffer, recycled): it is mapped outside the Go heap in huge pages
// where the system allows, and must be released with free.
func newHugeBuf(capacity int) *alignedBuf {
	if b, m := hugeheap.Map(capacity); b != nil {
		return &alignedBuf{b: b[:0], base: b, mapping: m}
	}
	return newAlignedBuf(capacity)
}

// free releases a mapped buffer's memory; nothing may use it after.
func (a *alignedBuf) free() {
	hugeheap.Unmap(a.mapping)
	a.b, a.base, a.mapping = nil, nil, nil
}

func alignedSlice(n int) []byte {
	raw := make([]byte, n+alignment)
	off := 0
	if r := int(uintptr(unsafe.Pointer(&raw[0])) % alignment); r != 0 {
		off = alignment - r
	}
	return raw[off : off+n : off+n]
}

func (a *alignedBuf) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

func (a *alignedBuf) reset() {
	if a.base != nil {
		a.b = a.base[:0]
		return
	}
	a.b = a.b[:0]
}

func isAligned(b []byte) bool {
	return cap(b) > 0 && uintptr(unsafe.Pointer(&b[:1][0]))%alignment == 0
}

// writeFileDirect writes the buffer to a new temporary file in dir, fsyncs
// it and returns its name. Where the file system allows it the data goes
// with O_DIRECT, skipping the page cache: on the machines measured, copying
// into the page cache costs more CPU than compressing the data did. The
// last block is padded for the write and the file truncated after.
func writeFileDirect(dir string, buf *alignedBuf) (string, error) {
	f, err := createTemp(dir, "pack-*.tmp")
	if err != nil {
		return "", fmt.Errorf("new pack file: %w", err)
	}
	name := f.Name()
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(name)
		return "", fmt.Errorf("write pack file: %w", err)
	}
	n := len(buf.b)
	if err := writeDirect(name, buf.b); err != nil {
		// No direct I/O here (tmpfs, some network file systems): write
		// through the page cache.
		if _, err := f.Write(buf.b); err != nil {
			return fail(err)
		}
	}
	st, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	if st.Size() != int64(n) {
		if err := f.Truncate(int64(n)); err != nil {
			return fail(err)
		}
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return "", fmt.Errorf("write pack file: %w", err)
	}
	return name, nil
}

// placeFileDirect writes buf as a new file in tmpDir (writeFileDirect),
// renames it to final and syncs syncPath, the directory final's name is
// in: the file durable under its name (a pack, or the ingest ceiling's
// stand-in for one). A failed rename leaves no temporary behind.
func placeFileDirect(tmpDir string, buf *alignedBuf, final, syncPath string) error {
	tmp, err := writeFileDirect(tmpDir, buf)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(syncPath)
}

// writeDirect writes b, padded to the alignment, to the existing empty file
// name opened with O_DIRECT. Any error means nothing usable was written
// and the caller writes the normal way.
func writeDirect(name string, b []byte) error {
	if oDirect == 0 {
		return errors.ErrUnsupported
	}
	n := len(b)
	padded := (n + alignment - 1) &^ (alignment - 1)
	if !isAligned(b) || cap(b) < padded {
		nb := alignedSlice(padded)
		copy(nb, b)
		b = nb
	}
	b = b[:padded]
	clear(b[n:])
	f, err := os.OpenFile(name, os.O_WRONLY|oDirect, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	for off := 0; off < len(b); {
		// Bounded writes: some kernels cap a direct write below 2 GiB.
		end := min(off+8<<20, len(b))
		m, err := f.Write(b[off:end])
		if err != nil {
			if errors.Is(err, syscall.EINVAL) {
				_ = f.Truncate(0)
			}
			return err
		}
		off += m
	}
	return nil
}
