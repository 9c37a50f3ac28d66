package main

// The table generator: a CSV file of ~100-byte rows, its v2 (rows
// updated, deleted and appended) and the two branches a merge joins.

import (
	"io"
	"math"
	"math/rand/v2"
	"time"
)

const (
	// Table edits between v1 and v2.
	tableAppendFrac = 0.02  // rows appended (new ids)
	tableUpdateMod  = 10000 // 1 in 10,000 rows updated  (0.01%)
	tableDeleteMod  = 20000 // 1 in 20,000 rows deleted  (0.005%)

	// tableHeader is the first line of every generated table.
	tableHeader = "id,name,email,city,amount,created_at,note\n"
)

// TableStats describes one generated table version.
type TableStats struct {
	Rows     int64 // data rows written (header excluded)
	Bytes    int64 // total bytes written, header included
	BaseRows int64 // rows of v1 (ids 1..BaseRows)
	MaxID    int64
	Updated  int64 // v2 only
	Deleted  int64 // v2 only
	Appended int64 // v2 only
}

type rowVals struct {
	fn, ln, dom, city int
	emailNum          int
	cents             int
	ts                int64
	noteN             int
	note              [8]int
}

var tableEpoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

// rowGen draws row values from one sequential random stream; v2 replays the
// same stream, so every unedited row comes out byte-identical.
type rowGen struct {
	seed    uint64
	rng     *rand.Rand
	editPCG *rand.PCG
	edit    *rand.Rand
}

func newRowGen(seed uint64) *rowGen {
	ep := rand.NewPCG(0, 0)
	return &rowGen{seed: seed, rng: rand.New(rand.NewPCG(seed, 0x7461626c65)), editPCG: ep, edit: rand.New(ep)}
}

func (g *rowGen) draw(id int64) rowVals {
	r := g.rng
	var v rowVals
	x := r.Uint64()
	v.fn = int(x & 31)
	v.ln = int(x >> 5 & 31)
	v.dom = int(x >> 10 & 3)
	v.city = int(x >> 12 & 31)
	v.emailNum = int(x >> 17 % 1000)
	v.cents = int(x >> 27 % 2000000)
	v.ts = tableEpoch + id*29 + int64(x>>48%600)
	v.noteN = 2 + r.IntN(5)
	y := r.Uint64()
	for i := 0; i < v.noteN; i++ {
		v.note[i] = int(y >> (6 * i) & 63)
	}
	return v
}

// editVals replaces amount and note with values from a per-id edit stream.
func (g *rowGen) editVals(id int64, v *rowVals) { g.editValsKey(id, keyEditValues, v) }

func (g *rowGen) editValsKey(id int64, key uint64, v *rowVals) {
	g.editPCG.Seed(g.seed^key, uint64(id))
	e := g.edit
	v.cents = e.IntN(5000000)
	v.noteN = 2 + e.IntN(5)
	for i := 0; i < v.noteN; i++ {
		v.note[i] = e.IntN(len(words))
	}
	v.note[v.noteN] = 13 // "updated"
	v.noteN++
}

func appendRow(b []byte, id int64, v *rowVals) []byte {
	b = appendInt(b, id)
	b = append(b, ',')
	b = append(b, firstNames[v.fn]...)
	b = append(b, ' ')
	b = append(b, lastNames[v.ln]...)
	b = append(b, ',')
	b = append(b, lowerFirst[v.fn]...)
	b = append(b, '.')
	b = append(b, lowerLast[v.ln]...)
	b = appendInt(b, int64(v.emailNum))
	b = append(b, '@')
	b = append(b, domains[v.dom]...)
	b = append(b, ',')
	b = append(b, cities[v.city]...)
	b = append(b, ',')
	b = appendInt(b, int64(v.cents/100))
	b = append(b, '.', byte('0'+v.cents/10%10), byte('0'+v.cents%10), ',')
	b = appendTS(b, v.ts)
	b = append(b, ',')
	for i := 0; i < v.noteN; i++ {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, words[v.note[i]]...)
	}
	return append(b, '\n')
}

// tableEdit says what v2 does to row id of v1: 0 keep, 1 update, 2 delete.
func tableEdit(seed uint64, id int64) int {
	h := mix(seed ^ keyEditSelect ^ mix(uint64(id)))
	if h%tableUpdateMod == 0 {
		return 1
	}
	if (h>>32)%tableDeleteMod == 0 {
		return 2
	}
	return 0
}

// WriteTable streams the CSV table to w. v1 has rows 1..N where N is the
// first row count whose v1 size reaches target bytes; v2 replays the same
// stream, updates ~0.01% of rows (amount and note), deletes ~0.005%, and
// appends ceil(2% of N) new rows with ids N+1...
func WriteTable(w io.Writer, seed uint64, target int64, v2 bool) (TableStats, error) {
	var edit func(g *rowGen, id int64, v *rowVals, st *TableStats) bool
	if v2 {
		edit = func(g *rowGen, id int64, v *rowVals, st *TableStats) bool {
			switch tableEdit(seed, id) {
			case 1:
				g.editVals(id, v)
				st.Updated++
			case 2:
				st.Deleted++
				return false
			}
			return true
		}
	}
	g := newRowGen(seed)
	st, err := writeTableRows(w, g, target, edit)
	if err != nil || !v2 {
		return st, err
	}
	// Appended rows continue the same stream of values.
	buf := make([]byte, 0, 512)
	id := st.BaseRows
	n := int64(math.Ceil(float64(id) * tableAppendFrac))
	for i := int64(0); i < n; i++ {
		id++
		v := g.draw(id)
		buf = appendRow(buf[:0], id, &v)
		if _, err := w.Write(buf); err != nil {
			return st, err
		}
		st.Rows++
		st.Appended++
		st.Bytes += int64(len(buf))
	}
	st.MaxID = id
	return st, nil
}

// writeTableRows streams the header and the v1 rows 1..N drawn from g (N:
// the first row count whose v1 size reaches target), passing each row
// through edit (nil: none), which may change it (and count that in st) or
// drop it (false).
func writeTableRows(w io.Writer, g *rowGen, target int64, edit func(g *rowGen, id int64, v *rowVals, st *TableStats) bool) (TableStats, error) {
	if _, err := io.WriteString(w, tableHeader); err != nil {
		return TableStats{}, err
	}
	buf := make([]byte, 0, 512)
	st, err := eachTableRow(g, target, edit, func(id int64, v *rowVals, st *TableStats) error {
		buf = appendRow(buf[:0], id, v)
		st.Bytes += int64(len(buf))
		_, err := w.Write(buf)
		return err
	})
	st.Bytes += int64(len(tableHeader))
	return st, err
}

// eachTableRow draws the v1 rows 1..N from g (N: the first row count whose
// v1 CSV size reaches target), passes each through edit (nil: none), which
// may change it (and count that in st) or drop it (false), and hands each
// row kept to emit. st counts the rows.
func eachTableRow(g *rowGen, target int64, edit func(g *rowGen, id int64, v *rowVals, st *TableStats) bool, emit func(id int64, v *rowVals, st *TableStats) error) (TableStats, error) {
	var st TableStats
	buf := make([]byte, 0, 512)
	v1Bytes := int64(len(tableHeader))
	var id int64
	for v1Bytes < target || id == 0 {
		id++
		v := g.draw(id)
		buf = appendRow(buf[:0], id, &v)
		v1Bytes += int64(len(buf))
		if edit != nil && !edit(g, id, &v, &st) {
			continue
		}
		if err := emit(id, &v, &st); err != nil {
			return st, err
		}
		st.Rows++
	}
	st.BaseRows, st.MaxID = id, id
	return st, nil
}

// branchEdit says which of two branches updates row id: 1 or 2 (each
// about 1 in mod rows, scattered, disjoint), or 0.
func branchEdit(seed uint64, id int64, mod uint64) int {
	switch mix(seed^keyBranchSel^mix(uint64(id))) % mod {
	case 1:
		return 1
	case 2:
		return 2
	}
	return 0
}

// WriteTableBranches streams v1 of the table with the updates of branch 1
// and/or branch 2 applied (amount and note; different values per branch),
// each to about 1 in mod rows (0: tableUpdateMod, 0.01%). With both, it is
// what merging the two branches must give.
func WriteTableBranches(w io.Writer, seed uint64, target int64, mod uint64, one, two bool) (TableStats, error) {
	if mod == 0 {
		mod = tableUpdateMod
	}
	return writeTableRows(w, newRowGen(seed), target, func(g *rowGen, id int64, v *rowVals, st *TableStats) bool {
		if b := branchEdit(seed, id, mod); b == 1 && one || b == 2 && two {
			g.editValsKey(id, keyEditValues^uint64(b), v)
			st.Updated++
		}
		return true
	})
}

// WriteTableAllUpdated streams a table of exactly rows rows (ids 1..rows)
// drawn as v1 of the table is; with v2 every row is updated (amount and
// note), so that the row diff of the two versions changes every row.
func WriteTableAllUpdated(w io.Writer, seed uint64, rows int64, v2 bool) (TableStats, error) {
	g := newRowGen(seed)
	st := TableStats{Rows: rows, BaseRows: rows, MaxID: rows, Bytes: int64(len(tableHeader))}
	if _, err := io.WriteString(w, tableHeader); err != nil {
		return st, err
	}
	buf := make([]byte, 0, 512)
	for id := int64(1); id <= rows; id++ {
		v := g.draw(id)
		if v2 {
			g.editVals(id, &v)
			st.Updated++
		}
		buf = appendRow(buf[:0], id, &v)
		if _, err := w.Write(buf); err != nil {
			return st, err
		}
		st.Bytes += int64(len(buf))
	}
	return st, nil
}
