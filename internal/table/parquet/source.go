package parquet

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/merge"
)

// chunkReader reads one version of a file through its chunks, as the
// Parquet library asks for byte ranges: a chunk is read the first time a
// range touches it and kept, and every chunk read is counted.
type chunkReader struct {
	ctx    context.Context
	src    merge.Source
	chunks []dag.ChunkRef
	offs   []int64 // offs[i]: where chunk i starts; offs[len(chunks)]: the size
	mu     sync.Mutex
	cache  map[int][]byte
	read   int64 // bytes of the chunks read
	nread  int   // chunks read
	// keep, if set, bounds the chunks kept, the first read going first
	// (for reading a file whole, once); order is when each was read.
	keep  int
	order []int
}

func newChunkReader(ctx context.Context, src merge.Source) *chunkReader {
	r := &chunkReader{ctx: ctx, src: src, chunks: src.Chunks(), cache: map[int][]byte{}}
	r.offs = make([]int64, len(r.chunks)+1)
	for i, c := range r.chunks {
		r.offs[i+1] = r.offs[i] + int64(c.Len)
	}
	return r
}

func (r *chunkReader) size() int64 { return r.offs[len(r.chunks)] }

// chunkAt is the index of the chunk holding byte off.
func (r *chunkReader) chunkAt(off int64) int {
	return sort.Search(len(r.chunks), func(i int) bool { return r.offs[i+1] > off })
}

// ReadAt implements io.ReaderAt.
func (r *chunkReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read at %d: negative offset", off)
	}
	n := 0
	for n < len(p) {
		at := off + int64(n)
		if at >= r.size() {
			return n, io.EOF
		}
		i := r.chunkAt(at)
		b, err := r.chunk(i)
		if err != nil {
			return n, err
		}
		n += copy(p[n:], b[at-r.offs[i]:])
	}
	return n, nil
}

func (r *chunkReader) chunk(i int) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.cache[i]; ok {
		return b, nil
	}
	if err := r.ctx.Err(); err != nil {
		return nil, err
	}
	b, err := r.src.AppendChunk(r.ctx, i, nil)
	if err != nil {
		return nil, err
	}
	if len(b) != int(r.chunks[i].Len) {
		return nil, fmt.Errorf("chunk %d: %d bytes, expected %d", i, len(b), r.chunks[i].Len)
	}
	r.cache[i] = b
	if r.keep > 0 {
		r.order = append(r.order, i)
		for len(r.order) > r.keep {
			delete(r.cache, r.order[0])
			r.order = r.order[1:]
		}
	}
	r.read += int64(len(b))
	r.nread++
	return b, nil
}

// identity names the bytes [off, off+n) by the chunks holding them: two
// ranges of two versions with one identity hold the same bytes, and
// naming them reads nothing. Each identity is self-delimiting (a tag,
// numbers and the count of chunk ids), so that several in a row name
// their ranges unambiguously.
func (r *chunkReader) identity(dst []byte, off, n int64) []byte {
	if n == 0 {
		return append(dst, 'e')
	}
	if n < 0 || off < 0 || off+n > r.size() {
		// Outside the file: equal to no range of another version.
		return fmt.Appendf(dst, "?%p,%d,%d;", r, off, n)
	}
	i := r.chunkAt(off)
	j := i
	for j < len(r.chunks) && r.offs[j] < off+n {
		j++
	}
	dst = append(dst, 'c')
	dst = binary.AppendUvarint(dst, uint64(off-r.offs[i]))
	dst = binary.AppendUvarint(dst, uint64(n))
	dst = binary.AppendUvarint(dst, uint64(j-i))
	for ; i < j; i++ {
		dst = append(dst, r.chunks[i].ID[:]...)
	}
	return dst
}
