package pack

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dxdata/dx/dag"
)

var update = flag.Bool("update", false, "rewrite golden files")

type obj struct {
	kind dag.Kind
	data []byte
}

func testObjects() []obj {
	return []obj{
		{dag.KindChunk, []byte(strings.Repeat("id,name,value\n1,alpha,3.5\n", 200))},
		{dag.KindChunk, []byte{0x00, 0xff, 0x10, 0x7f}},
		{dag.KindChunk, nil},
		{dag.KindTree, []byte("tree bytes")},
		{dag.KindCommit, []byte(strings.Repeat("c", 1000))},
	}
}

// buildPack writes objects into a pack and returns its bytes, ID and entries.
func buildPack(t testing.TB, objs []obj) ([]byte, dag.ID, []Entry) {
	return buildPackWith(t, objs, NewCompressor().Compress)
}

// storeRaw stores an object as it is.
func storeRaw(dst, src []byte) ([]byte, Codec) { return append(dst, src...), CodecRaw }

// buildPackWith is buildPack storing objects with compress.
func buildPackWith(t testing.TB, objs []obj, compress func(dst, src []byte) ([]byte, Codec)) ([]byte, dag.ID, []Entry) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		stored, codec := compress(nil, o.data)
		if _, err := w.Add(dag.Hash(o.kind, o.data), o.kind, codec, stored, len(o.data)); err != nil {
			t.Fatal(err)
		}
	}
	id, footer, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if int64(buf.Len()) != w.Size() {
		t.Fatalf("Size %d, wrote %d", w.Size(), buf.Len())
	}
	entries, err := DecodeIndex(footer)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), id, entries
}

func TestRoundTrip(t *testing.T) {
	objs := testObjects()
	b, id, entries := buildPack(t, objs)
	got, err := PackID(bytes.NewReader(b))
	if err != nil || got != id {
		t.Fatalf("PackID = %v, %v; Finish said %v", got, err, id)
	}
	read, footer, err := ReadIndex(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(footer, EncodeIndex(entries)) || len(read) != len(objs) {
		t.Fatalf("ReadIndex: %d entries", len(read))
	}
	sawZstd := false
	for i, e := range read {
		if e != entries[i] {
			t.Fatalf("entry %d: %+v vs %+v", i, e, entries[i])
		}
		stored, err := ReadBlob(bytes.NewReader(b), e)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := Decompress(nil, stored, e.Codec, int(e.Raw))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(raw, objs[i].data) || e.Kind != objs[i].kind || dag.Hash(e.Kind, raw) != e.ID {
			t.Fatalf("object %d does not round trip", i)
		}
		sawZstd = sawZstd || e.Codec == CodecZstd
	}
	if !sawZstd || read[1].Codec != CodecRaw {
		t.Fatalf("codecs: want zstd for text and raw for 4 random bytes: %+v", read)
	}
}

func TestEmptyPack(t *testing.T) {
	b, _, _ := buildPack(t, nil)
	entries, _, err := ReadIndex(bytes.NewReader(b), int64(len(b)))
	if err != nil || len(entries) != 0 {
		t.Fatalf("empty pack: %v, %d entries", err, len(entries))
	}
}

// TestSize: the size computed for some objects of a pack, with their old
// offsets, is the length of the pack written from those objects alone.
func TestSize(t *testing.T) {
	objs := testObjects()
	_, _, entries := buildPack(t, objs)
	for _, keep := range [][]int{nil, {0}, {1, 3, 4}, {0, 1, 2, 3, 4}} {
		var sub []obj
		var subEntries []Entry
		for _, i := range keep {
			sub = append(sub, objs[i])
			subEntries = append(subEntries, entries[i])
		}
		b, _, _ := buildPack(t, sub)
		if got := Size(subEntries); got != int64(len(b)) {
			t.Errorf("Size of objects %v = %d, pack has %d bytes", keep, got, len(b))
		}
	}
}

// TestGoldenPackID pins the format: the same objects, stored raw, must
// give the same pack bytes, hence the same ID, forever. (Compressed bytes
// depend on the zstd library: codec_test.go checks that every library's
// frames read.)
func TestGoldenPackID(t *testing.T) {
	_, id, _ := buildPackWith(t, testObjects(), storeRaw)
	golden := filepath.Join("testdata", "pack-id.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(id.String()+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if got := id.String() + "\n"; got != string(want) {
		t.Fatalf("pack id %s, golden %s", got, want)
	}
}

func TestWriterRejects(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf)
	id := dag.Hash(dag.KindChunk, []byte("x"))
	tests := []struct {
		name  string
		kind  dag.Kind
		codec Codec
		data  []byte
		raw   int
	}{
		{"bad kind", dag.Kind(9), CodecRaw, []byte("x"), 1},
		{"bad codec", dag.KindChunk, Codec(5), []byte("x"), 1},
		{"raw length mismatch", dag.KindChunk, CodecRaw, []byte("x"), 2},
		{"negative raw", dag.KindChunk, CodecZstd, []byte("x"), -1},
		{"too large", dag.KindChunk, CodecZstd, []byte("x"), MaxBlob + 1},
	}
	for _, tt := range tests {
		if _, err := w.Add(id, tt.kind, tt.codec, tt.data, tt.raw); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
	if _, err := w.Add(id, dag.KindChunk, CodecRaw, []byte("x"), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Add(id, dag.KindChunk, CodecRaw, []byte("x"), 1); err == nil {
		t.Fatal("duplicate accepted")
	}
	if _, _, err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Finish(); err == nil {
		t.Fatal("second Finish accepted")
	}
	if _, err := w.Add(dag.Hash(dag.KindChunk, []byte("y")), dag.KindChunk, CodecRaw, []byte("y"), 1); err == nil {
		t.Fatal("Add after Finish accepted")
	}
}

// TestCorruption flips, truncates and extends packs: every change to the
// header, footer or trailer must be caught by ReadIndex, and a change to a
// blob must be caught by Decompress or by the object's ID.
func TestCorruption(t *testing.T) {
	b, _, entries := buildPack(t, testObjects())
	footerOff := blobEnd(entries)
	benign, blobFlips := 0, 0
	for i := 0; i < len(b); i++ {
		for _, bit := range []byte{0x01, 0x80} {
			c := append([]byte(nil), b...)
			c[i] ^= bit
			got, _, err := ReadIndex(bytes.NewReader(c), int64(len(c)))
			if uint64(i) < HeaderSize || uint64(i) >= footerOff {
				if err == nil {
					t.Fatalf("flip at %d (metadata) not detected", i)
				}
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("flip at %d: %v is not ErrCorrupt", i, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("flip at %d (blob): index should still read: %v", i, err)
			}
			// A flip in a blob is caught by the codec or by the ID check
			// the store does on every read; a few bits of a zstd stream
			// do not affect its output, which is harmless.
			if blobIntact(c, got) {
				benign++
			}
			blobFlips++
		}
	}
	if benign*20 > blobFlips {
		t.Fatalf("%d of %d blob flips went unnoticed", benign, blobFlips)
	}
	for _, n := range []int{0, 1, HeaderSize, len(b) - TrailerSize, len(b) - 1} {
		if _, _, err := ReadIndex(bytes.NewReader(b[:n]), int64(n)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated to %d: %v", n, err)
		}
	}
	long := append(append([]byte(nil), b...), 0)
	if _, _, err := ReadIndex(bytes.NewReader(long), int64(len(long))); !errors.Is(err, ErrCorrupt) {
		t.Errorf("extended: %v", err)
	}
}

// blobIntact reports whether every object in c decodes to bytes whose hash
// is its ID.
func blobIntact(c []byte, entries []Entry) bool {
	for _, e := range entries {
		stored, err := ReadBlob(bytes.NewReader(c), e)
		if err != nil {
			return false
		}
		raw, err := Decompress(nil, stored, e.Codec, int(e.Raw))
		if err != nil || dag.Hash(e.Kind, raw) != e.ID {
			return false
		}
	}
	return true
}

func TestDecodeIndexStrict(t *testing.T) {
	id := dag.Hash(dag.KindChunk, []byte("a"))
	id2 := dag.Hash(dag.KindChunk, []byte("b"))
	good := []Entry{
		{ID: id, Kind: dag.KindChunk, Codec: CodecRaw, Offset: HeaderSize, Stored: 1, Raw: 1},
		{ID: id2, Kind: dag.KindChunk, Codec: CodecZstd, Offset: HeaderSize + 1, Stored: 10, Raw: 20},
	}
	if _, err := DecodeIndex(EncodeIndex(good)); err != nil {
		t.Fatal(err)
	}
	mod := func(f func(es []Entry)) []byte {
		es := append([]Entry(nil), good...)
		f(es)
		return EncodeIndex(es)
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"bad magic", append([]byte("DXIY\x01"), EncodeIndex(good)[5:]...)},
		{"gap", mod(func(es []Entry) { es[1].Offset++ })},
		{"first not at header", mod(func(es []Entry) { es[0].Offset = 0 })},
		{"duplicate", mod(func(es []Entry) { es[1].ID = id; es[1].Offset = HeaderSize + 1 })},
		{"bad kind", mod(func(es []Entry) { es[0].Kind = 0 })},
		{"bad codec", mod(func(es []Entry) { es[0].Codec = 2 })},
		{"raw mismatch", mod(func(es []Entry) { es[0].Raw = 2 })},
		{"trailing", append(EncodeIndex(good), 0)},
		{"truncated", EncodeIndex(good)[:40]},
		{"huge count", []byte("DXIX\x01\xff\xff\xff\x07")},
		{"non-minimal count", []byte("DXIX\x01\x80\x00")},
	}
	for _, tt := range tests {
		if _, err := DecodeIndex(tt.b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", tt.name, err)
		}
	}
}

func TestDecompressRejects(t *testing.T) {
	c := NewCompressor()
	src := []byte(strings.Repeat("hello world ", 100))
	stored, codec := c.Compress(nil, src)
	if codec != CodecZstd {
		t.Fatal("repetitive text not compressed")
	}
	tests := []struct {
		name   string
		stored []byte
		codec  Codec
		raw    int
	}{
		{"short raw", stored, codec, len(src) - 1},
		{"long raw", stored, codec, len(src) + 1},
		{"garbage", []byte("not zstd at all"), CodecZstd, 10},
		{"truncated", stored[:len(stored)/2], codec, len(src)},
		{"raw length", []byte("abc"), CodecRaw, 4},
		{"unknown codec", []byte("abc"), Codec(3), 3},
		{"huge raw", stored, codec, MaxBlob + 1},
	}
	for _, tt := range tests {
		if _, err := Decompress(nil, tt.stored, tt.codec, tt.raw); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", tt.name, err)
		}
	}
	// Appends to dst.
	out, err := Decompress([]byte("pre:"), stored, codec, len(src))
	if err != nil || string(out) != "pre:"+string(src) {
		t.Fatalf("append: %v %q", err, out[:10])
	}
}

func FuzzDecodeIndex(f *testing.F) {
	_, _, entries := buildPack(f, testObjects())
	f.Add(EncodeIndex(entries))
	f.Add(EncodeIndex(nil))
	f.Add([]byte("DXIX\x01\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := DecodeIndex(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		// Canonical: what decodes re-encodes to the same bytes.
		if !bytes.Equal(EncodeIndex(es), b) {
			t.Fatal("decoded index does not re-encode identically")
		}
	})
}

func FuzzReadIndex(f *testing.F) {
	b, _, _ := buildPack(f, testObjects())
	f.Add(b)
	e, _, _ := buildPack(f, nil)
	f.Add(e)
	f.Fuzz(func(t *testing.T, b []byte) {
		es, _, err := ReadIndex(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, e := range es {
			if e.Offset+uint64(e.Stored) > uint64(len(b)) {
				t.Fatalf("entry %s beyond the pack", e.ID.Short())
			}
			stored, err := ReadBlob(bytes.NewReader(b), e)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = Decompress(nil, stored, e.Codec, int(e.Raw))
		}
	})
}

func BenchmarkCompress(b *testing.B) {
	var sb strings.Builder
	for i := 0; sb.Len() < 64<<10; i++ {
		fmt.Fprintf(&sb, "%d,name-%d,%d.%d\n", i, i*7919%10007, i%1000, i%97)
	}
	src := []byte(sb.String())
	c := NewCompressor()
	var dst []byte
	b.SetBytes(int64(len(src)))
	for i := 0; i < b.N; i++ {
		dst, _ = c.Compress(dst[:0], src)
	}
}

// appendBuf is a destination that objects can be compressed into in place.
type appendBuf struct{ b []byte }

func (a *appendBuf) Write(p []byte) (int, error) { a.b = append(a.b, p...); return len(p), nil }

// TestAppendedEqualsAdd: objects compressed straight into the pack's
// destination and recorded with Appended make the same pack, byte for byte,
// as objects added with Add; a refused Appended changes nothing.
func TestAppendedEqualsAdd(t *testing.T) {
	objs := testObjects()
	want, wantID, wantEntries := buildPack(t, objs)
	dst := &appendBuf{}
	w, err := NewWriter(dst)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCompressor()
	for i, o := range objs {
		base := len(dst.b)
		var codec Codec
		dst.b, codec = c.Compress(dst.b, o.data)
		id := dag.Hash(o.kind, o.data)
		if _, err := w.Appended(id, o.kind, codec, dst.b[base:], len(o.data)); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			// The same object again is refused and leaves the pack as it was.
			if _, err := w.Appended(id, o.kind, codec, dst.b[base:], len(o.data)); err == nil {
				t.Fatal("a duplicate object was recorded")
			}
		}
	}
	id, footer, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if id != wantID || !bytes.Equal(dst.b, want) {
		t.Fatalf("pack %s of %d bytes, want %s of %d", id.Short(), len(dst.b), wantID.Short(), len(want))
	}
	entries, err := DecodeIndex(footer)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(entries) != fmt.Sprint(wantEntries) {
		t.Fatalf("entries %v, want %v", entries, wantEntries)
	}
}

// TestStoredBound: Compress never appends more than StoredBound bytes.
func TestStoredBound(t *testing.T) {
	c := NewCompressor()
	for _, n := range []int{0, 1, 100, 4096, 64 << 10, 1 << 20} {
		for _, data := range [][]byte{bytes.Repeat([]byte("ab,1\n"), n/5+1)[:n], noise(n)} {
			out, _ := c.Compress(nil, data)
			if len(out) > StoredBound(n) {
				t.Fatalf("%d bytes stored as %d, over the bound %d", n, len(out), StoredBound(n))
			}
		}
	}
}

// noise is n bytes that do not compress.
func noise(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestAssumeUniqueStillCaughtOnRead: a Writer told its IDs are unique
// does not check them, but a pack that repeats one is refused when read.
func TestAssumeUniqueStillCaughtOnRead(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w.AssumeUnique()
	id := dag.Hash(dag.KindChunk, []byte("x"))
	for range 2 {
		if _, err := w.Add(id, dag.KindChunk, CodecRaw, []byte("x"), 1); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadIndex(bytes.NewReader(buf.Bytes()), int64(buf.Len())); err == nil {
		t.Fatal("a pack repeating an ID was read")
	}
}

// TestWriterExpect: room made up front holds the objects without growing,
// and the pack is the same as one built without the hint.
func TestWriterExpect(t *testing.T) {
	var plain, hinted bytes.Buffer
	pw, _ := NewWriter(&plain)
	hw, _ := NewWriter(&hinted)
	hw.Expect(100)
	room := cap(hw.entries)
	for i := range 100 {
		data := []byte(fmt.Sprintf("object %d", i))
		for _, w := range []*Writer{pw, hw} {
			if _, err := w.Add(dag.Hash(dag.KindChunk, data), dag.KindChunk, CodecRaw, data, len(data)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if room < 100 || cap(hw.entries) != room {
		t.Errorf("room for %d objects before, %d after 100 added", room, cap(hw.entries))
	}
	pid, _, _ := pw.Finish()
	hid, _, _ := hw.Finish()
	if pid != hid || !bytes.Equal(plain.Bytes(), hinted.Bytes()) {
		t.Error("the hint changed the pack")
	}
}
