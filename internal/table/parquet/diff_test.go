package parquet

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/dxdata/dx/merge"
)

// fullRows decodes every row of a file (a diff against no file): the
// oracle for diffs that skip what they can.
func fullRows(t testing.TB, data []byte) map[string]string {
	t.Helper()
	d, err := Diff(context.Background(), []string{"id"}, source(t, nil), source(t, data))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range d.Changes {
		out[c.Key] = strings.Join(c.New.Vals, "|")
	}
	return out
}

// expected is the diff of two full decodes, as sorted lines.
func expected(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		w, ok := b[k]
		switch {
		case !ok:
			out = append(out, "removed "+k)
		case v != w:
			out = append(out, "changed "+k+" "+w)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, "added "+k)
		}
	}
	slices.Sort(out)
	return out
}

func lines(d *merge.RowDiff) []string {
	var out []string
	for _, c := range d.Changes {
		s := string(c.Kind) + " " + c.Key
		if c.Kind == merge.RowChanged {
			s += " " + strings.Join(c.New.Vals, "|")
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// TestReadsOnlyWhatDiffers: an update of one row and an append decode the
// pages holding them, not the table; without page indexes, the row groups
// holding them.
func TestReadsOnlyWhatDiffers(t *testing.T) {
	const n = 20000
	v1 := rangeRecs(0, n)
	v2 := slices.Clone(v1)
	v2[12345] = mkRec(12345, 1) // the price alone
	v2 = append(v2, rangeRecs(n, n+300)...)
	for _, rg := range []int64{2000, 5000} {
		a, b := writeFile(t, v1, rg, 4<<10), writeFile(t, v2, rg, 4<<10)
		for _, idx := range []bool{true, false} {
			t.Run(fmt.Sprintf("rowgroup=%d/pageindex=%v", rg, idx), func(t *testing.T) {
				d, err := diff(context.Background(), []string{"id"}, source(t, a), source(t, b), idx)
				if err != nil {
					t.Fatal(err)
				}
				ad, rm, ch := d.Counts()
				if ad != 300 || rm != 0 || ch != 1 {
					t.Fatalf("%d added, %d removed, %d changed; want 300, 0, 1", ad, rm, ch)
				}
				for _, c := range d.Changes {
					if c.Kind == merge.RowChanged && (c.Key != "12345" || !slices.Equal(c.Columns, []string{"price"})) {
						t.Errorf("changed %s %v, want 12345 [price]", c.Key, c.Columns)
					}
				}
				st := d.Stats
				// Whole rows: the changed row (in the new version) and the
				// appended ones. Pages: with page indexes, those holding
				// the changed value and the appended rows; without, the
				// row group of the update (the changed column) and the
				// last ones.
				if st.RowsDecoded != 1+300 {
					t.Errorf("decoded %d rows whole, want %d", st.RowsDecoded, 1+300)
				}
				limit := st.BytesTotal / 25
				if !idx {
					limit = st.BytesTotal * 3 / 10
				}
				if st.BytesParsed > limit || st.BytesRead >= st.BytesTotal/2 {
					t.Errorf("parsed %d (at most %d) and read %d bytes of %d", st.BytesParsed, limit, st.BytesRead, st.BytesTotal)
				}
				t.Logf("decoded %d rows, parsed %d bytes, read %d of %d", st.RowsDecoded, st.BytesParsed, st.BytesRead, st.BytesTotal)
			})
		}
	}
}

// TestRandomEdits: over seeds, random updates, deletes, inserts, moves and
// appends, written with random row group and page sizes, diff as the two
// files decoded whole do.
func TestRandomEdits(t *testing.T) {
	for seed := range uint64(30) {
		n, rg, page, a, b := randomVersions(t, seed, 7)
		want := expected(fullRows(t, a), fullRows(t, b))
		for _, idx := range []bool{true, false} {
			d, err := diff(context.Background(), []string{"id"}, source(t, a), source(t, b), idx)
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			if got := lines(d); !slices.Equal(got, want) {
				t.Fatalf("seed %d (rows %d, row group %d, page %d, page index %v): %d changes, want %d\n%v\nwant\n%v", seed, n, rg, page, idx, len(got), len(want), head(got), head(want))
			}
		}
	}
}

// randomVersions writes a table of n random rows and a random edit of it
// (see editRecs), in row groups of rg rows and pages of page bytes.
func randomVersions(t testing.TB, seed, stream uint64) (n int, rg int64, page int, a, b []byte) {
	rnd := rand.New(rand.NewPCG(seed, stream))
	n = 200 + rnd.IntN(4000)
	v1 := rangeRecs(0, int64(n))
	v2 := editRecs(rnd, v1, int64(n))
	rg = int64(50 + rnd.IntN(3000))
	page = 256 << rnd.IntN(7)
	return n, rg, page, writeFile(t, v1, rg, page), writeFile(t, v2, rg, page)
}

// editRecs applies random edits: updates, deletes, inserts of new keys,
// a run moved to the end (its rows unchanged), appends.
func editRecs(rnd *rand.Rand, v []rec, next int64) []rec {
	out := slices.Clone(v)
	for range rnd.IntN(5) {
		i := rnd.IntN(len(out))
		out[i] = mkRec(out[i].ID, 1+rnd.IntN(1000))
	}
	for range rnd.IntN(3) {
		i := rnd.IntN(len(out))
		out = slices.Delete(out, i, min(i+1+rnd.IntN(20), len(out)))
	}
	for range rnd.IntN(3) {
		i := rnd.IntN(len(out))
		out = slices.Insert(out, i, mkRec(next, 0))
		next++
	}
	if rnd.IntN(2) == 0 {
		i := rnd.IntN(len(out))
		j := min(i+rnd.IntN(50), len(out))
		moved := slices.Clone(out[i:j])
		out = append(slices.Delete(out, i, j), moved...)
	}
	for range rnd.IntN(100) {
		out = append(out, mkRec(next, 0))
		next++
	}
	return out
}

func head(s []string) []string { return s[:min(len(s), 10)] }

// TestBadFiles: a truncated file, a corrupt footer and a schema change are
// one clear error each, never a panic.
func TestBadFiles(t *testing.T) {
	good := writeFile(t, rangeRecs(0, 100), 50, 1<<10)
	corrupt := slices.Clone(good)
	for i := len(corrupt) - 200; i < len(corrupt)-8; i++ {
		corrupt[i] ^= 0x5a
	}
	for name, bad := range map[string][]byte{
		"truncated": good[:len(good)/2],
		"footer":    corrupt,
		"text":      []byte("id,name\n1,x\n"),
	} {
		_, err := Diff(context.Background(), []string{"id"}, source(t, good), source(t, bad))
		var se *merge.SideError
		if !errors.Is(err, merge.ErrInvalidRows) || !errors.As(err, &se) || se.Side != 1 {
			t.Errorf("%s: %v, want an invalid new version", name, err)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: a message of several lines: %q", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
	_, err := Diff(context.Background(), []string{"nope"}, source(t, good), source(t, good))
	if !errors.Is(err, merge.ErrInvalidRows) || !strings.Contains(err.Error(), `key column "nope"`) {
		t.Errorf("missing key: %v", err)
	}
}

type other struct {
	ID   int64  `parquet:"id"`
	Name string `parquet:"name"`
}

// TestSchemaChange: two schemas are a SchemaChange saying which columns
// differ.
func TestSchemaChange(t *testing.T) {
	a := writeFile(t, rangeRecs(0, 10), 50, 1<<10)
	b := writeOther(t, []other{{1, "x"}})
	_, err := Diff(context.Background(), []string{"id"}, source(t, a), source(t, b))
	sc, ok := IsSchemaChange(err)
	if !ok {
		t.Fatalf("%v, want a schema change", err)
	}
	msg := sc.Error()
	if !strings.Contains(msg, "- optional binary name (STRING)") || !strings.Contains(msg, "+ required binary name (STRING)") || strings.Contains(msg, "id") {
		t.Errorf("message %q", msg)
	}
}

// TestUpdatesInPlace: updates that move no row (strings, lists, structs,
// maps and nulls edited) decode only the changed columns' pages and the
// changed rows whole in the new version, and diff as the files decoded
// whole do.
func TestUpdatesInPlace(t *testing.T) {
	const n = 6000
	v1 := rangeRecs(0, n)
	for seed := range uint64(6) {
		rnd := rand.New(rand.NewPCG(seed, 3))
		v2 := slices.Clone(v1)
		touched := map[int]bool{}
		for range 1 + rnd.IntN(30) {
			i := rnd.IntN(n)
			touched[i] = true
			v2[i] = mkRec(int64(i), 1+rnd.IntN(500))
		}
		rg := int64(500 + rnd.IntN(3000))
		a, b := writeFile(t, v1, rg, 2<<10), writeFile(t, v2, rg, 2<<10)
		want := expected(fullRows(t, a), fullRows(t, b))
		for _, idx := range []bool{true, false} {
			d, err := diff(context.Background(), []string{"id"}, source(t, a), source(t, b), idx)
			if err != nil {
				t.Fatal(err)
			}
			if got := lines(d); !slices.Equal(got, want) {
				t.Fatalf("seed %d, page index %v: %v\nwant %v", seed, idx, head(got), head(want))
			}
			_, _, ch := d.Counts()
			if d.Stats.RowsDecoded != int64(ch) || ch == 0 || ch > len(touched) {
				t.Errorf("seed %d, page index %v: %d changed rows (%d touched), %d rows decoded whole", seed, idx, ch, len(touched), d.Stats.RowsDecoded)
			}
		}
	}
}

// TestWithoutKey: without a key rows are matched by their whole content,
// a changed row being one removed and one added; a key repeated in a
// version is an invalid version.
func TestWithoutKey(t *testing.T) {
	v1 := rangeRecs(0, 500)
	v2 := slices.Clone(v1)
	v2[100] = mkRec(100, 4)
	v2 = append(v2, mkRec(900, 0))
	a, b := writeFile(t, v1, 200, 1<<10), writeFile(t, v2, 200, 1<<10)
	d, err := Diff(context.Background(), nil, source(t, a), source(t, b))
	if err != nil {
		t.Fatal(err)
	}
	if ad, rm, ch := d.Counts(); ad != 2 || rm != 1 || ch != 0 {
		t.Errorf("%d added, %d removed, %d changed; want 2, 1, 0", ad, rm, ch)
	}
	// Key 7 again, appended: the diff decodes the appended rows, and the
	// key columns of the segment the statistics say may hold 7.
	dup := writeFile(t, append(slices.Clone(v1), mkRec(7, 3)), 200, 1<<10)
	for _, idx := range []bool{true, false} {
		_, err = diff(context.Background(), []string{"id"}, source(t, a), source(t, dup), idx)
		var de *merge.DuplicateKeyError
		var se *merge.SideError
		if !errors.As(err, &de) || de.Key != "7" || !errors.As(err, &se) || se.Side != 1 || !errors.Is(err, merge.ErrInvalidRows) {
			t.Errorf("a repeated key (page index %v): %v", idx, err)
		}
	}
	// Among many appended keys, new ones before and after, one repeated
	// far from the start: the keys sorted once still find it.
	many := slices.Clone(v1)
	for i := range 300 {
		many = append(many, mkRec(int64(1000+i), 0))
	}
	many = append(many, mkRec(600, 0), mkRec(350, 2), mkRec(2000, 0))
	dup = writeFile(t, many, 200, 1<<10)
	for _, idx := range []bool{true, false} {
		_, err = diff(context.Background(), []string{"id"}, source(t, a), source(t, dup), idx)
		var de *merge.DuplicateKeyError
		if !errors.As(err, &de) || de.Key != "350" {
			t.Errorf("a repeated key among appended ones (page index %v): %v", idx, err)
		}
	}
}

// TestDamagedPages: bytes flipped anywhere in the new version give a diff
// or one error, never a crash.
func TestDamagedPages(t *testing.T) {
	v1 := rangeRecs(0, 2000)
	a := writeFile(t, v1, 500, 1<<10)
	rnd := rand.New(rand.NewPCG(5, 5))
	for range 60 {
		b := slices.Clone(a)
		at := rnd.IntN(len(b))
		for i := at; i < min(at+1+rnd.IntN(8), len(b)); i++ {
			b[i] ^= byte(1 + rnd.IntN(255))
		}
		_, err := Diff(context.Background(), []string{"id"}, source(t, a), source(t, b))
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("flipped at %d: a message of several lines: %q", at, err)
		}
	}
}

// TestRepeatedKeyInPlace: a row appended with the key of a row that an
// edit before it left pending but in place (its pages shifted) makes the
// new version invalid, with or without page indexes.
func TestRepeatedKeyInPlace(t *testing.T) {
	v1 := rangeRecs(0, 3000)
	v2 := slices.Clone(v1)
	v2[1003] = mkRec(1003, 5)
	v2 = append(v2, mkRec(1500, 3))
	a, b := writeFile(t, v1, 1000, 1<<10), writeFile(t, v2, 1000, 1<<10)
	for _, idx := range []bool{true, false} {
		_, err := diff(context.Background(), []string{"id"}, source(t, a), source(t, b), idx)
		var de *merge.DuplicateKeyError
		var se *merge.SideError
		if !errors.As(err, &de) || de.Key != "1500" || !errors.As(err, &se) || se.Side != 1 {
			t.Errorf("page index %v: %v", idx, err)
		}
	}
}

// TestCompositeKeyInPlace: with a key of two columns (one of them text),
// rows updated in place, and rows shifted by a removal and an addition,
// are found as with the one-column key.
func TestCompositeKeyInPlace(t *testing.T) {
	const n = 4000
	v1 := rangeRecs(0, n)
	rnd := rand.New(rand.NewPCG(7, 7))
	v2 := slices.Clone(v1)
	for range 25 {
		i := rnd.IntN(n)
		v2[i] = mkRec(int64(i), 1+rnd.IntN(500))
	}
	// A row removed and one added in the middle shift the rows between
	// them: there, only keys tell which rows are the same.
	v2 = slices.Delete(v2, 1000, 1001)
	v2 = slices.Insert(v2, 3000, mkRec(n+1, 0))
	a, b := writeFile(t, v1, 1500, 2<<10), writeFile(t, v2, 1500, 2<<10)
	changes := func(d *merge.RowDiff) []string {
		var out []string
		for _, c := range d.Changes {
			s := string(c.Kind)
			if c.Old != nil {
				s += " " + strings.Join(c.Old.Vals, "|")
			}
			if c.New != nil {
				s += " " + strings.Join(c.New.Vals, "|")
			}
			out = append(out, s)
		}
		slices.Sort(out)
		return out
	}
	for _, idx := range []bool{true, false} {
		one, err := diff(context.Background(), []string{"id"}, source(t, a), source(t, b), idx)
		if err != nil {
			t.Fatal(err)
		}
		two, err := diff(context.Background(), []string{"id", "u"}, source(t, a), source(t, b), idx)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := changes(two), changes(one); len(want) == 0 || !slices.Equal(got, want) {
			t.Fatalf("page index %v: key (id, u): %v\nkey id: %v", idx, head(got), head(want))
		}
		if add, rm, _ := two.Counts(); add != 1 || rm != 1 {
			t.Errorf("page index %v: %d added, %d removed, want 1 and 1", idx, add, rm)
		}
		for _, c := range two.Changes {
			if !strings.Contains(c.Key, merge.KeySep) {
				t.Fatalf("key %q is not of two columns", c.Key)
			}
		}
	}
}
