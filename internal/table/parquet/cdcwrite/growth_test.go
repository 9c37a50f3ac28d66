package cdcwrite

import (
	"testing"

	"github.com/zeebo/blake3"
)

// TestGrowthAfterEdits: v2 is v1 with 0.01% of rows updated (amount and
// note) and 2% appended. Written by this package and cut as dx commits
// them, v2's chunks that v1 lacks are at most a tenth of v1, and less than
// half of what the same rows cost when parquet-go cuts the pages itself.
func TestGrowthAfterEdits(t *testing.T) {
	v1, v2 := table(200_000, false), table(200_000, true)
	a, b := writeCDC(t, v1, DefaultOptions()), writeCDC(t, v2, DefaultOptions())
	g := growth(t, a, b)
	pa, pb := writePlain(t, v1), writePlain(t, v2)
	gp := growth(t, pa, pb)
	t.Logf("CDC on: v1 %d bytes, v2 grew %d = %s; CDC off: v1 %d bytes, v2 grew %d = %s", len(a), g, pct(g, int64(len(a))), len(pa), gp, pct(gp, int64(len(pa))))
	updated := 0
	for i := range v1 {
		if v1[i].Note != v2[i].Note {
			updated++
		}
	}
	if updated < 10 || len(v2) != len(v1)+len(v1)/50 {
		t.Fatalf("v2 updates %d rows and has %d rows to v1's %d: the test wants some updates and a 2%% append", updated, len(v2), len(v1))
	}
	if 10*g > int64(len(a)) {
		t.Fatalf("v2 grew %d bytes = %s of v1's %d: want at most 10%%", g, pct(g, int64(len(a))), len(a))
	}
	if 2*g > gp {
		t.Fatalf("v2 grew %d bytes with CDC on, %d with it off: want at most half", g, gp)
	}
}

// TestInsertKeepsLaterRowGroups: rows inserted early move the content-
// defined row group boundaries near them only, so the later row groups
// are the same pages and the growth is a small part of the file.
func TestInsertKeepsLaterRowGroups(t *testing.T) {
	o := DefaultOptions()
	o.MinGroup, o.GroupBits, o.MaxGroup = 256<<10, 18, 2<<20
	v1 := table(60_000, false)
	v2 := append(append(append([]row{}, v1[:3000]...), table(40, false)...), v1[3000:]...)
	for i := range 40 {
		v2[3000+i].ID = 1_000_000 + int64(i)
	}
	a, b := writeCDC(t, v1, o), writeCDC(t, v2, o)
	ga, gb := columnChunks(t, a), columnChunks(t, b)
	if len(ga) < 5 {
		t.Fatalf("%d row groups: the test wants several", len(ga))
	}
	had := map[[32]byte]bool{}
	for _, rg := range ga {
		for _, cc := range rg {
			had[cc] = true
		}
	}
	same := 0
	for _, rg := range gb {
		all := true
		for _, cc := range rg {
			all = all && had[cc]
		}
		if all {
			same++
		}
	}
	g := growth(t, a, b)
	t.Logf("v1: %d row groups, %d bytes; v2 with 40 rows inserted: %d row groups, %d of them in v1; grew %d = %s", len(ga), len(a), len(gb), same, g, pct(g, int64(len(a))))
	if same < len(gb)-2 {
		t.Fatalf("%d of v2's %d row groups are in v1: want all but the one or two around the insert", same, len(gb))
	}
}

// columnChunks hashes the bytes of each column chunk, by row group.
func columnChunks(t testing.TB, data []byte) [][][32]byte {
	t.Helper()
	var out [][][32]byte
	for _, rg := range fileOf(t, data).Metadata().RowGroups {
		var hs [][32]byte
		for _, cc := range rg.Columns {
			start := cc.MetaData.DataPageOffset
			if d := cc.MetaData.DictionaryPageOffset; d > 0 && d < start {
				start = d
			}
			hs = append(hs, blake3.Sum256(data[start:start+cc.MetaData.TotalCompressedSize]))
		}
		out = append(out, hs)
	}
	return out
}
