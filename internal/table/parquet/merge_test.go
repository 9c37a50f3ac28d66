package parquet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	pq "github.com/parquet-go/parquet-go"

	"github.com/dxdata/dx/merge"
)

// editSide is one side's edit of base: rows updated (with edit v), removed
// and added (new ids from first), in base's order with the added at the
// end, as a writer of the table would leave them.
func editSide(rng *rand.Rand, base []rec, first int64) []rec {
	var out []rec
	for _, r := range base {
		switch rng.IntN(12) {
		case 0:
			continue // removed
		case 1, 2:
			// Updated: edits 1 to 6 (a map of one entry: parquet-go
			// writes a Go map in its random order).
			out = append(out, mkRec(r.ID, 1+rng.IntN(6)))
		default:
			out = append(out, r)
		}
	}
	for i := range int64(rng.IntN(30)) {
		// Added: a few ids both sides add (some the same rows), the rest
		// new to one side.
		id := first + i
		if rng.IntN(4) == 0 {
			id = 1_000_000 + int64(rng.IntN(8))
		}
		if slices.ContainsFunc(out, func(r rec) bool { return r.ID == id }) {
			continue
		}
		out = append(out, mkRec(id, rng.IntN(2)))
	}
	return out
}

// oracle merges theirs into ours since base, rows as maps by id: a row a
// side left as in base takes the other side's outcome; two different
// outcomes are a conflict that keeps ours'. It returns the merged rows in
// ours' order, then theirs' added in theirs' order, and the conflicting
// ids.
func oracle(base, ours, theirs []rec) (merged []rec, conflicts []int64) {
	s := pq.SchemaOf(rec{})
	enc := func(r rec) string { return fmt.Sprint(s.Deconstruct(nil, &r)) }
	index := func(rs []rec) map[int64]string {
		m := map[int64]string{}
		for _, r := range rs {
			m[r.ID] = enc(r)
		}
		return m
	}
	b, o, t := index(base), index(ours), index(theirs)
	theirRow := map[int64]rec{}
	for _, r := range theirs {
		theirRow[r.ID] = r
	}
	// outcome: the row id ends as (present, which side's row).
	take := func(id int64) (present, fromTheirs bool) {
		bv, inB := b[id]
		ov, inO := o[id]
		tv, inT := t[id]
		switch {
		case inO == inB && ov == bv: // ours left it
			return inT, true
		case inT == inB && tv == bv, inO == inT && ov == tv: // theirs left it, or the same outcome
			return inO, false
		default:
			conflicts = append(conflicts, id)
			return inO, false
		}
	}
	for _, r := range ours {
		if present, fromTheirs := take(r.ID); present {
			if fromTheirs {
				r = theirRow[r.ID]
			}
			merged = append(merged, r)
		}
	}
	for _, r := range theirs {
		if _, inO := o[r.ID]; inO {
			continue
		}
		if present, _ := take(r.ID); present {
			merged = append(merged, r)
		}
	}
	// Keys ours removed and theirs did too or changed.
	for _, r := range base {
		if _, inO := o[r.ID]; !inO {
			if _, inT := t[r.ID]; inT {
				take(r.ID)
			}
		}
	}
	slices.Sort(conflicts)
	return merged, slices.Compact(conflicts)
}

// TestMergeAgainstOracle: over seeds of random edits on both sides
// (updates, removals, additions, some of the same keys, some to the same
// rows), in files of random row group and page sizes, the merged file
// holds the oracle's rows in its order under base's schema, and the
// conflicts are the oracle's keys.
func TestMergeAgainstOracle(t *testing.T) {
	ctx := context.Background()
	conflicted := 0
	for seed := range uint64(16) {
		rng := rand.New(rand.NewPCG(seed, 20))
		n := int64(200 + rng.IntN(800))
		base := rangeRecs(0, n)
		ours, theirs := editSide(rng, base, n), editSide(rng, base, n+500)
		file := func(rs []rec) []byte {
			return writeFile(t, rs, int64(50+rng.IntN(400)), 1<<(10+rng.IntN(6)))
		}
		var out bytes.Buffer
		res, err := Merge(ctx, []string{"id"}, source(t, file(base)), source(t, file(ours)), source(t, file(theirs)), &out)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		want, wantConflicts := oracle(base, ours, theirs)
		var gotConflicts []int64
		for _, c := range res.Conflicts {
			var id int64
			fmt.Sscan(c.Key, &id)
			gotConflicts = append(gotConflicts, id)
		}
		slices.Sort(gotConflicts)
		if !slices.Equal(gotConflicts, wantConflicts) {
			t.Fatalf("seed %d: conflicts %v, want %v", seed, gotConflicts, wantConflicts)
		}
		conflicted += len(gotConflicts)
		if res.Unchanged {
			checkRows(t, seed, ours, want)
			continue
		}
		got, err := pq.Read[rec](bytes.NewReader(out.Bytes()), int64(out.Len()))
		if err != nil {
			t.Fatalf("seed %d: reading the merged file: %v", seed, err)
		}
		checkRows(t, seed, got, want)
		f, err := pq.OpenFile(bytes.NewReader(out.Bytes()), int64(out.Len()))
		if err != nil {
			t.Fatal(err)
		}
		if !pq.EqualNodes(f.Schema(), pq.SchemaOf(rec{})) && f.Schema().String() != pq.SchemaOf(rec{}).String() {
			t.Fatalf("seed %d: merged schema\n%s\nwant\n%s", seed, f.Schema(), pq.SchemaOf(rec{}))
		}
		t.Logf("seed %d: %d rows; +%d ~%d −%d from theirs, %d conflicts", seed, len(got), res.Added, res.Changed, res.Removed, len(res.Conflicts))
	}
	if conflicted == 0 {
		t.Fatal("no seed made a conflict: the test does not test them")
	}
}

func checkRows(t *testing.T, seed uint64, got, want []rec) {
	t.Helper()
	s := pq.SchemaOf(rec{})
	if len(got) != len(want) {
		t.Fatalf("seed %d: %d rows, want %d", seed, len(got), len(want))
	}
	for i := range want {
		if !s.Deconstruct(nil, &got[i]).Equal(s.Deconstruct(nil, &want[i])) {
			t.Fatalf("seed %d: row %d is id %d %+v, want id %d %+v", seed, i, got[i].ID, got[i], want[i].ID, want[i])
		}
	}
}

// TestMergeSchemaChange: a side whose schema differs from base's is a
// schema change, a damaged side invalid rows, and a table not in the base
// ErrNoBase; nothing is written.
func TestMergeSchemaChange(t *testing.T) {
	base := writeFile(t, rangeRecs(0, 100), 50, 4096)
	ours := writeFile(t, rangeRecs(0, 101), 50, 4096)
	other := writeOther(t, []other{{ID: 1}})
	var out bytes.Buffer
	_, err := Merge(context.Background(), []string{"id"}, source(t, base), source(t, ours), source(t, other), &out)
	if _, ok := IsSchemaChange(err); !ok {
		t.Fatalf("err %v, want a schema change", err)
	}
	if out.Len() != 0 {
		t.Fatalf("%d bytes written on a schema change", out.Len())
	}
	if _, err := Merge(context.Background(), []string{"id"}, source(t, nil), source(t, ours), source(t, base), &out); !errors.Is(err, ErrNoBase) {
		t.Fatalf("without a base: %v, want ErrNoBase", err)
	}
	// A damaged side (its footer cut off) is invalid rows, named by side.
	_, err = Merge(context.Background(), []string{"id"}, source(t, base), source(t, ours), source(t, ours[:len(ours)-20]), &out)
	if !errors.Is(err, merge.ErrInvalidRows) || !strings.HasPrefix(err.Error(), "theirs: ") {
		t.Fatalf("damaged theirs: %v, want invalid rows of theirs", err)
	}
	if out.Len() != 0 {
		t.Fatalf("%d bytes written on a damaged side", out.Len())
	}
}

// TestMergeResultDedups: the merged file is written with content-defined
// pages, so merging one more changed row into a merge's result makes few
// new chunks of pages against it (the page index and the footer, which
// locate every page, are new each time).
func TestMergeResultDedups(t *testing.T) {
	base := rangeRecs(0, 150_000)
	ours := append(slices.Clone(base), mkRec(170_000, 0))
	theirs := slices.Clone(base)
	theirs[70_000] = mkRec(70_000, 4)
	file := func(rs []rec) []byte { return writeFile(t, rs, 20_000, 64<<10) }
	var m1 bytes.Buffer
	if _, err := Merge(context.Background(), []string{"id"}, source(t, file(base)), source(t, file(ours)), source(t, file(theirs)), &m1); err != nil {
		t.Fatal(err)
	}
	// The next merge into that result: theirs changes one more row.
	theirs[110_000] = mkRec(110_000, 2)
	var m2 bytes.Buffer
	if _, err := Merge(context.Background(), []string{"id"}, source(t, file(base)), source(t, m1.Bytes()), source(t, file(theirs)), &m2); err != nil {
		t.Fatal(err)
	}
	old := map[[32]byte]bool{}
	for _, r := range source(t, m1.Bytes()).refs {
		old[r.ID] = true
	}
	f, err := pq.OpenFile(bytes.NewReader(m2.Bytes()), int64(m2.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var pagesEnd int64 // where the column chunks end and the page index begins
	for _, rg := range f.Metadata().RowGroups {
		for _, cc := range rg.Columns {
			pagesEnd = max(pagesEnd, chunkStart(&cc.MetaData)+cc.MetaData.TotalCompressedSize)
		}
	}
	var fresh, freshPages, off int64
	for _, r := range source(t, m2.Bytes()).refs {
		if !old[r.ID] {
			fresh += int64(r.Len)
			if off < pagesEnd {
				freshPages += int64(r.Len)
			}
		}
		off += int64(r.Len)
	}
	t.Logf("merged %d bytes, then %d bytes: %d new, %d of them pages", m1.Len(), m2.Len(), fresh, freshPages)
	if freshPages == 0 || 20*freshPages > pagesEnd {
		t.Fatalf("one more row merged made %d new bytes of pages of %d: want some, at most 5%%", freshPages, pagesEnd)
	}
}

// TestChunkReaderKeep: a reader that keeps few chunks reads the same
// bytes, reading evicted chunks again, and keeps no more than it may.
func TestChunkReaderKeep(t *testing.T) {
	data := writeFile(t, rangeRecs(0, 20_000), 5_000, 4096)
	src := source(t, data)
	if len(src.refs) < 10 {
		t.Fatalf("%d chunks: the test wants more", len(src.refs))
	}
	r := newChunkReader(context.Background(), src)
	r.keep = 3
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		off := rng.Int64N(int64(len(data)))
		n := min(int64(1+rng.IntN(40_000)), int64(len(data))-off)
		b := make([]byte, n)
		if _, err := r.ReadAt(b, off); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, data[off:off+n]) {
			t.Fatalf("bytes at %d+%d differ", off, n)
		}
		if len(r.cache) > r.keep {
			t.Fatalf("%d chunks kept, at most %d", len(r.cache), r.keep)
		}
	}
	if src.reads <= len(src.refs) {
		t.Fatalf("%d reads of %d chunks: nothing was read again", src.reads, len(src.refs))
	}
}

// TestMergeDuckDBFiles: versions written by DuckDB (no page index, its
// own schema) merge to a file DuckDB reads as the oracle's rows: EXCEPT
// both ways between it and the oracle's rows written by DuckDB is empty,
// and so is dx's row diff.
func TestMergeDuckDBFiles(t *testing.T) {
	dir := duckdbDir(t)
	ctx := context.Background()
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 21))
		n := int64(300 + rng.IntN(300))
		base := rangeRecs(0, n)
		ours, theirs := editSide(rng, base, n), editSide(rng, base, n+500)
		duck := func(rs []rec) []byte {
			return duckRewrite(t, dir, writeFile(t, rs, 1000, 8192), int64(60+rng.IntN(200)))
		}
		var out bytes.Buffer
		res, err := Merge(ctx, []string{"id"}, source(t, duck(base)), source(t, duck(ours)), source(t, duck(theirs)), &out)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if res.Unchanged {
			t.Fatalf("seed %d: theirs brought nothing: the test merges nothing", seed)
		}
		want, _ := oracle(base, ours, theirs)
		wantFile := duck(want)
		if added, removed := duckExcept(t, dir, wantFile, out.Bytes()); len(added)+len(removed) != 0 {
			t.Fatalf("seed %d: DuckDB: the merge has %d rows the oracle lacks, lacks %d of its rows", seed, len(added), len(removed))
		}
		d, err := Diff(ctx, []string{"id"}, source(t, wantFile), source(t, out.Bytes()))
		if err != nil || len(d.Changes) != 0 {
			t.Fatalf("seed %d: dx's row diff of the oracle's file against the merge: %v, %d changes", seed, err, len(d.Changes))
		}
		t.Logf("seed %d: %d rows, %d conflicts", seed, len(want), len(res.Conflicts))
	}
}
