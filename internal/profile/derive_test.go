package profile

import (
	"context"
	"crypto/sha256"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/check"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// versionTable is data as a stored version: cut in chunks of about mod
// rows, its File id from its bytes.
func versionTable(data []byte, mod uint32, base *Table) Table {
	return Table{
		Version: check.Version{Path: "t", Source: newMemSourceCut(data, mod), Cut: merge.DiffOptions{Aligned: true}},
		Spec:    table.Spec{Format: table.CSV, Key: []string{"id"}},
		ID:      dag.ID(blake(data)),
		Base:    base,
	}
}

// mixRows are genRows with a column "mix" of ints but now and then a
// word, and a column "q" of quoted text now and then (a span with a quote
// is taken out or put in whole).
func mixRows(rng *rand.Rand, n int, next *int) [][]string {
	rows := genRows(rng, n, next)
	for i := range rows {
		mix := strconv.Itoa(rng.IntN(100))
		if rng.IntN(500) == 0 {
			mix = "word"
		}
		q := ""
		if rng.IntN(300) == 0 {
			q = `"a, ""b"""`
		}
		rows[i] = append(rows[i], mix, q)
	}
	return rows
}

// editRows changes, deletes, inserts and repeats rows at k places, and
// appends a few, or now and then hundreds.
func editRows(rng *rand.Rand, rows [][]string, k int, next *int) [][]string {
	rows = slices.Clone(rows)
	for range k {
		i := rng.IntN(len(rows))
		switch rng.IntN(4) {
		case 0:
			r := slices.Clone(rows[i])
			r[3] = strconv.FormatFloat(rng.NormFloat64()*1000, 'f', 3, 64) // an update of one value
			rows[i] = r
		case 1:
			rows = slices.Delete(rows, i, i+1)
		case 2:
			rows = slices.Insert(rows, i, mixRows(rng, 1, next)...)
		default:
			rows = slices.Insert(rows, i, rows[rng.IntN(len(rows))]) // a row twice
		}
	}
	n := rng.IntN(20)
	if rng.IntN(3) == 0 {
		n = 200 + rng.IntN(400) // new spans, whole
	}
	return append(rows, mixRows(rng, n, next)...)
}

// TestDerivedEqualsScratch: a version's profile derived from the version
// before it (rows taken out and put in) has every figure of the same
// version profiled from its rows: counts, nulls, min, max, mean and
// standard deviation, exact top values and quantiles; an estimated
// distinct count is off by no more than the registers the rows taken out
// since they were made may have raised. Versions follow each other, each derived from the
// one before where it can be.
func TestDerivedEqualsScratch(t *testing.T) {
	derivedBy := map[uint32]int{}
	for _, mod := range []uint32{8, 100, 400} {
		for seed := range uint64(6) {
			rng := rand.New(rand.NewPCG(seed, 23))
			next := 0
			rows := mixRows(rng, 3000+rng.IntN(6000), &next)
			cache := newMemCache()
			prev := versionTable(writeCSV2(rows), mod, nil)
			if _, _, err := Compute(context.Background(), prev, cache); err != nil {
				t.Fatal(err)
			}
			var out int64
			for edit := range 5 {
				rows = editRows(rng, rows, 1+rng.IntN(6), &next)
				data := writeCSV2(rows)
				v := versionTable(data, mod, &prev)
				inc, st, err := Compute(context.Background(), v, cache)
				if err != nil {
					t.Fatal(err)
				}
				if st.From != "" {
					derivedBy[mod]++
					out += st.RowsOut
				} else {
					out = 0 // profiled from its spans: registers anew
				}
				scratch, _, err := Compute(context.Background(), versionTable(data, mod, nil), newMemCache())
				if err != nil {
					t.Fatal(err)
				}
				a, b := Summarize(inc, noTypes), Summarize(scratch, noTypes)
				checkExact(t, data, a)
				// A value taken out but still in the registers raises one
				// register at most, which moves the estimate by about
				// estimate/registers.
				var most int64
				for _, c := range b.Columns {
					most = max(most, c.Distinct)
				}
				sameSummaryWithin(t, a, b, out*(1+2*most>>hllPrecision)+1)
				if st.From != "" && st.Bytes > int64(len(data))/2 {
					t.Fatalf("mod %d seed %d edit %d: derived, reading %d bytes of %d", mod, seed, edit, st.Bytes, len(data))
				}
				prev = v
			}
		}
	}
	// (In spans of 400 rows, a few edits change a quarter of the table.)
	if derivedBy[8] < 25 || derivedBy[100] < 20 {
		t.Fatalf("versions derived from the one before, of 30, by rows a span: %v", derivedBy)
	}
}

// TestDerivedRegainsKind: a version without the one value of a column
// that was not a number is not derived (its version before kept no
// figures of a number column), and profiles as an int column.
func TestDerivedRegainsKind(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	next := 0
	rows := mixRows(rng, 2000, &next)
	for _, r := range rows {
		r[6] = "1"
	}
	rows[1000][6] = "word"
	cache := newMemCache()
	v1 := versionTable(writeCSV2(rows), 8, nil)
	if _, _, err := Compute(context.Background(), v1, cache); err != nil {
		t.Fatal(err)
	}
	rows = slices.Delete(rows, 1000, 1001)
	data := writeCSV2(rows)
	p, st, err := Compute(context.Background(), versionTable(data, 8, &v1), cache)
	if err != nil {
		t.Fatal(err)
	}
	s := Summarize(p, noTypes)
	if st.From != "" || s.Columns[6].Type != "int" {
		t.Fatalf("derived from %q; mix is %s", st.From, s.Columns[6].Type)
	}
	checkExact(t, data, s)
	// Taking out a row whose values are all shared with others derives.
	rows2 := slices.Delete(slices.Clone(rows), 10, 11)
	v2 := versionTable(data, 8, &v1)
	_, st, err = Compute(context.Background(), versionTable(writeCSV2(rows2), 8, &v2), cache)
	if err != nil || st.From == "" || st.RowsOut != 1 || st.RowsIn != 0 {
		t.Fatalf("one row deleted: %+v, %v", st, err)
	}
}

var mixHeader = append(slices.Clone(genHeader), "mix", "q")

func writeCSV2(rows [][]string) []byte {
	b := []byte(strings.Join(mixHeader, ",") + "\n")
	for _, r := range rows {
		b = append(append(b, strings.Join(r, ",")...), '\n')
	}
	return b
}

func blake(data []byte) [32]byte { return sha256.Sum256(data) }

// TestDerivedRowMovedToTheEnd: rows appended to a version are profiled
// whole while the rest is read, but one of them that cancels a row taken
// out elsewhere (a row moved to the end, past the new ones) makes its
// span not whole: the derived profile still counts every row once, as
// profiling it from its rows does. Rows appended alone take the early
// way, and agree too.
func TestDerivedRowMovedToTheEnd(t *testing.T) {
	for _, move := range []bool{true, false} {
		rng := rand.New(rand.NewPCG(4, 4))
		next := 0
		rows := mixRows(rng, 4000, &next)
		cache := newMemCache()
		prev := versionTable(writeCSV2(rows), 8, nil)
		if _, _, err := Compute(context.Background(), prev, cache); err != nil {
			t.Fatal(err)
		}
		v2 := slices.Clone(rows)
		moved := v2[1500]
		if move {
			v2 = slices.Delete(v2, 1500, 1501)
		}
		v2 = append(v2, mixRows(rng, 300, &next)...)
		if move {
			v2 = append(v2, moved) // in the last span, past the new rows
		}
		data := writeCSV2(v2)
		inc, st, err := Compute(context.Background(), versionTable(data, 8, &prev), cache)
		if err != nil {
			t.Fatal(err)
		}
		if st.From == "" {
			t.Fatalf("move %v: not derived", move)
		}
		scratch, _, err := Compute(context.Background(), versionTable(data, 8, nil), newMemCache())
		if err != nil {
			t.Fatal(err)
		}
		a := Summarize(inc, noTypes)
		checkExact(t, data, a)
		sameSummaryWithin(t, a, Summarize(scratch, noTypes), st.RowsOut+1)
		if a.Rows != int64(len(v2)) {
			t.Fatalf("move %v: %d rows, want %d", move, a.Rows, len(v2))
		}
	}
}

// TestAppended: the added spans past as many as were removed in their
// gap are profiled early.
func TestAppended(t *testing.T) {
	early, rest := appended([]int{0, 3, 3, 3, 7}, []int{3, 7})
	if !slices.Equal(early, []int{0, 2, 3}) || !slices.Equal(rest, []int{1, 4}) {
		t.Errorf("appended: %v, %v", early, rest)
	}
}
