package locfile

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/pack"
	"github.com/zeebo/blake3"
)

// randEntries returns n entries with distinct random IDs, sorted, in packs
// drawn from packs.
func randEntries(r *rand.Rand, n int, packs []dag.ID) []Entry {
	seen := map[dag.ID]bool{}
	out := make([]Entry, 0, n)
	for len(out) < n {
		var id dag.ID
		for i := range id {
			id[i] = byte(r.Uint32())
		}
		if r.IntN(8) == 0 && len(out) > 0 { // share a long prefix with another ID
			copy(id[:1+r.IntN(31)], out[r.IntN(len(out))].ID[:])
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		raw := r.Uint32N(pack.MaxBlob + 1)
		e := Entry{ID: id, Pack: packs[r.IntN(len(packs))], Kind: dag.Kind(1 + r.IntN(int(dag.KindStage))),
			Codec: pack.CodecZstd, Offset: r.Uint64() >> r.IntN(64), Stored: r.Uint32N(pack.MaxBlob + 1), Raw: raw}
		if r.IntN(3) == 0 {
			e.Codec, e.Stored = pack.CodecRaw, raw
		}
		out = append(out, e)
	}
	return sortUnique(out)
}

// sortUnique sorts es by ID and keeps the first entry of each ID.
func sortUnique(es []Entry) []Entry {
	slices.SortStableFunc(es, func(a, b Entry) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	return slices.CompactFunc(es, func(a, b Entry) bool { return a.ID == b.ID })
}

func randPacks(r *rand.Rand, n int) []dag.ID {
	out := make([]dag.ID, n)
	for i := range out {
		for j := range out[i] {
			out[i][j] = byte(r.Uint32())
		}
	}
	return out
}

func encode(t testing.TB, es []Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if err := w.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestAgainstOracle: every entry written is found as written, no other ID
// is, and Search agrees with a search of the sorted IDs.
func TestAgainstOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 40 {
		n := []int{0, 1, 2, 255, 256, 3000}[round%6] + r.IntN(3)
		packs := randPacks(r, 1+r.IntN(20))
		es := randEntries(r, n, packs)
		f, err := Parse(encode(t, es))
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if err := f.Verify(); err != nil {
			t.Fatalf("round %d: verify: %v", round, err)
		}
		if f.Len() != n {
			t.Fatalf("round %d: Len %d, want %d", round, f.Len(), n)
		}
		used := map[dag.ID]bool{}
		for _, e := range es {
			used[e.Pack] = true
		}
		if len(f.Packs()) != len(used) {
			t.Fatalf("round %d: %d packs, want %d", round, len(f.Packs()), len(used))
		}
		for i, e := range es {
			got, ok, err := f.Find(e.ID)
			if err != nil || !ok || got != e {
				t.Fatalf("round %d: Find(%s) = %+v %v %v, want %+v", round, e.ID.Short(), got, ok, err, e)
			}
			if at, err := f.At(i); err != nil || at != e {
				t.Fatalf("round %d: At(%d) = %+v %v", round, i, at, err)
			}
		}
		for range 200 {
			var q dag.ID
			for i := range q {
				q[i] = byte(r.Uint32())
			}
			if len(es) > 0 && r.IntN(2) == 0 { // a near miss
				q = es[r.IntN(len(es))].ID
				q[31-r.IntN(4)] ^= 1 << r.IntN(8)
			}
			want, has := slices.BinarySearchFunc(es, q, func(e Entry, q dag.ID) int { return bytes.Compare(e.ID[:], q[:]) })
			if _, ok, err := f.Find(q); err != nil || ok != has {
				t.Fatalf("round %d: Find(%x) = %v %v, want %v", round, q, ok, err, has)
			}
			p := q[:r.IntN(33)]
			want, _ = slices.BinarySearchFunc(es, p, func(e Entry, p []byte) int { return bytes.Compare(e.ID[:], p) })
			if got := f.Search(p); got != want {
				t.Fatalf("round %d: Search(%x) = %d, want %d", round, p, got, want)
			}
		}
	}
}

// TestOpenMapsTheFile reads a file written to disk, as the store does.
func TestOpenMapsTheFile(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	es := randEntries(r, 5000, randPacks(r, 7))
	path := filepath.Join(t.TempDir(), "a.loc")
	if err := os.WriteFile(path, encode(t, es), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Verify(); err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if got, ok, err := f.Find(e.ID); err != nil || !ok || got != e {
			t.Fatalf("Find(%s) = %+v %v %v", e.ID.Short(), got, ok, err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := f.Find(es[0].ID); ok {
		t.Fatal("a closed file still finds entries")
	}
	if err := os.WriteFile(path, []byte("short"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open of a short file: %v, want ErrCorrupt", err)
	}
}

// TestWriterRefuses: entries out of order, repeated, or malformed.
func TestWriterRefuses(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	es := randEntries(r, 2, randPacks(r, 1))
	bad := es[0]
	bad.Kind = 0
	rawMismatch := es[0]
	rawMismatch.Codec, rawMismatch.Stored, rawMismatch.Raw = pack.CodecRaw, 1, 2
	big := es[0]
	big.Raw = pack.MaxBlob + 1
	for name, seq := range map[string][]Entry{
		"out of order":     {es[1], es[0]},
		"repeated":         {es[0], es[0]},
		"invalid kind":     {bad},
		"raw size differs": {rawMismatch},
		"too large":        {big},
	} {
		var buf bytes.Buffer
		w, _ := NewWriter(&buf)
		var err error
		for _, e := range seq {
			if err = w.Add(e); err != nil {
				break
			}
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestEveryDamageIsFound: a file with any one byte changed, or cut short,
// fails to open or fails Verify, and no lookup in it panics.
func TestEveryDamageIsFound(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	es := randEntries(r, 40, randPacks(r, 3))
	good := encode(t, es)
	for i := range good {
		for _, flip := range []byte{1, 0x80} {
			b := bytes.Clone(good)
			b[i] ^= flip
			f, err := Parse(b)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("byte %d: %v, want ErrCorrupt", i, err)
				}
				continue
			}
			exercise(f)
			if err := f.Verify(); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("byte %d ^ %#x: Verify = %v, want ErrCorrupt", i, flip, err)
			}
		}
	}
	for n := range len(good) {
		if _, err := Parse(good[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("cut to %d bytes: %v, want ErrCorrupt", n, err)
		}
	}
}

// exercise runs every lookup on f, for what a damaged file may do to them.
func exercise(f *File) {
	for i := range f.Len() {
		e, _ := f.At(i)
		_, _, _ = f.Find(e.ID)
		_ = f.Search(f.id(i)[:1+i%32])
	}
	_, _, _ = f.Find(dag.ID{})
	_ = f.Verify()
	var buf bytes.Buffer
	w, _ := NewWriter(&buf)
	_ = Merge(w, []*File{f, f}, func(dag.ID) bool { return true })
}

// FuzzParse: no input makes a parse or a lookup panic.
func FuzzParse(f *testing.F) {
	r := rand.New(rand.NewPCG(9, 10))
	f.Add(encode(f, randEntries(r, 3, randPacks(r, 2))))
	f.Add(encode(f, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		lf, err := Parse(b)
		if err != nil {
			return
		}
		exercise(lf)
	})
}

// TestGolden pins the layout: a fixed set of entries encodes to these bytes.
func TestGolden(t *testing.T) {
	var p1, p2 dag.ID
	p1[0], p2[0] = 0xaa, 0xbb
	id := func(b ...byte) (d dag.ID) { copy(d[:], b); return d }
	es := []Entry{
		{ID: id(0x01, 2), Pack: p2, Kind: dag.KindChunk, Codec: pack.CodecZstd, Offset: 8, Stored: 10, Raw: 20},
		{ID: id(0x01, 3), Pack: p1, Kind: dag.KindChunk, Codec: pack.CodecRaw, Offset: 18, Stored: 5, Raw: 5},
		{ID: id(0xfe), Pack: p2, Kind: dag.KindFile, Codec: pack.CodecZstd, Offset: 1 << 40, Stored: 7, Raw: 9},
	}
	b := encode(t, es)
	if len(b) != headerSize+3*entrySize+2*dag.IDSize+fanoutSize+trailerSize {
		t.Fatalf("%d bytes", len(b))
	}
	sum := blake3.Sum256(b)
	const want = "5c3415dc6b112616817b63a5822cd90d3881587ca905af13b213b3106885dd3a"
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("the layout changed: BLAKE3 %s, want %s", got, want)
	}
}
