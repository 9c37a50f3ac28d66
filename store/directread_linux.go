package store

import (
	"io"
	"syscall"

	"github.com/dxdata/dx/internal/blockread"
)

// Past directFrom bytes, ingest reads a cold file from blocks read
// straight from the disk, the next block read while the chunker cuts the
// last (internal/blockread): filling the page cache with a cold file
// costs more system time than chunking it, on a core that compression
// wants. A file whose rest the cache mostly holds (one just written) is
// read through the cache.
const (
	directFrom = 8 << 20
	// readAheadRoom is how far past what was read the kernel's read-ahead
	// may have filled the cache (read_ahead_kb is 8 MiB on some disks).
	readAheadRoom = 16 << 20
)

// startDirect decides, at f.read past directFrom, whether to read the
// rest of f directly (f.dr).
func (f *rawFile) startDirect() {
	f.noDR = true // decided once
	var st syscall.Stat_t
	if syscall.Fstat(f.fd, &st) != nil {
		return
	}
	f.dr = blockread.Open(f.fd, f.path, st.Size, f.read, readAheadRoom, 2)
}

// readDirect reads from f.dr at f.read.
func (f *rawFile) readDirect(p []byte) (int, error) {
	n, err := f.dr.ReadAt(p, f.read)
	f.read += int64(n)
	if n > 0 && err == io.EOF {
		err = nil // the next Read says io.EOF
	}
	return n, err
}
