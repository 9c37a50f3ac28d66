package store

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dxdata/dx/store/chunker"
)

// TestIngestCompressesInPlace: once each worker writes a data pack of its
// own, chunks are compressed straight into the pack's buffer; what is
// stored reads back byte for byte and passes a full fsck after a reopen,
// packs that run out of room go out a little short, and a chunk too big
// for any pack buffer is stored the other way.
func TestIngestCompressesInPlace(t *testing.T) {
	ctx := context.Background()
	s, dir := newStoreWith(t, Options{PackSize: 1 << 16})
	// 3 MiB of text and noise in 60 files: most chunks come after the
	// first 2 packs' worth, when the workers have packs of their own.
	var datas [][]byte
	for i := range 60 {
		var b []byte
		if i%2 == 0 {
			b = []byte(strings.Repeat(fmt.Sprintf("%d,row %d,%d.5\n", i, i*7, i*3), 2500))
		} else {
			b = randData(uint64(200+i), 30<<10+i*900)
		}
		datas = append(datas, b)
	}
	ingest := func(datas [][]byte, o IngestOptions) []IngestResult {
		t.Helper()
		var files []IngestFile
		for i, b := range datas {
			files = append(files, memFile(fmt.Sprintf("f%02d", i), b))
		}
		o.Workers = 2
		res, err := s.Ingest(ctx, files, o)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := ingest(datas, IngestOptions{})
	st := s.Stats()
	inPlace, written := st.ChunksInPlace.Load(), st.ChunksWritten.Load()
	if inPlace == 0 || inPlace >= written {
		t.Fatalf("%d of %d chunks compressed in place: want most, not all (the first packs are shared)", inPlace, written)
	}
	// Chunks of 2 to 8 MiB that do not compress: no pack buffer (64 KiB
	// and 1 MiB of room) holds one in place.
	big := [][]byte{randData(1, 6<<20), randData(2, 7<<20)}
	co := chunker.Options{Min: 2 << 20, Avg: 4 << 20, Max: 8 << 20, Mode: chunker.Binary}
	bigRes := ingest(big, IngestOptions{Chunking: co})
	if got := st.ChunksInPlace.Load(); got != inPlace {
		t.Fatalf("%d chunks of 2-8 MiB compressed in place", got-inPlace)
	}
	if st.ChunksWritten.Load() == written {
		t.Fatal("the big chunks were not stored")
	}
	// Chunks of 1030 KiB: a fresh pack buffer holds one in place, one
	// holding another does not, so each goes into a pack of its own.
	var mid [][]byte
	for i := range 6 {
		mid = append(mid, randData(uint64(300+i), 1030<<10))
	}
	inPlace, packs := st.ChunksInPlace.Load(), st.PacksWritten.Load()
	midRes := ingest(mid, IngestOptions{Chunking: co})
	if got := st.ChunksInPlace.Load() - inPlace; got < 4 {
		t.Fatalf("%d of 6 chunks of 1030 KiB compressed in place", got)
	}
	if got := st.PacksWritten.Load() - packs; got < 6 {
		t.Fatalf("6 chunks of 1030 KiB in %d packs", got)
	}
	all, allRes := append(append(datas, big...), mid...), append(append(res, bigRes...), midRes...)
	check := func(s *Store) {
		t.Helper()
		for i, r := range allRes {
			want := all[i]
			if got := readFile(t, s, r.ID); !bytes.Equal(got, want) {
				t.Fatalf("file %d reads back %d bytes, not the %d stored", i, len(got), len(want))
			}
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	check(s2)
	if rep, err := s2.Fsck(ctx, FsckOptions{Full: true}); err != nil || !rep.OK() {
		t.Fatalf("fsck: %+v %v", rep, err)
	}
}
