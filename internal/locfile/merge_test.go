package locfile

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/dxdata/dx/dag"
)

// TestMergeAgainstOracle: merging files that share IDs keeps, for each ID,
// the newest entry whose pack is live, as a map filled oldest first does.
func TestMergeAgainstOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for round := range 30 {
		packs := randPacks(r, 1+r.IntN(12))
		dead := map[dag.ID]bool{}
		for _, p := range packs {
			if r.IntN(4) == 0 {
				dead[p] = true
			}
		}
		// Files newest first; later ones reuse some IDs of earlier ones,
		// as a repack or a second write of an object does.
		var files []*File
		var all []Entry
		for range 1 + r.IntN(6) {
			es := randEntries(r, r.IntN(400), packs)
			for i := range es {
				if len(all) > 0 && r.IntN(3) == 0 {
					es[i].ID = all[r.IntN(len(all))].ID
				}
			}
			es = sortUnique(es)
			all = append(all, es...)
			f, err := Parse(encode(t, es))
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		// The oracle: the files from oldest to newest into a map, dead
		// packs passed over.
		want := map[dag.ID]Entry{}
		for i := len(files) - 1; i >= 0; i-- {
			for j := range files[i].Len() {
				e, _ := files[i].At(j)
				if !dead[e.Pack] {
					want[e.ID] = e
				}
			}
		}
		asked := map[dag.ID]int{}
		var buf bytes.Buffer
		w, _ := NewWriter(&buf)
		err := Merge(w, files, func(p dag.ID) bool { asked[p]++; return !dead[p] })
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		m, err := Parse(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Verify(); err != nil {
			t.Fatalf("round %d: merged file: %v", round, err)
		}
		if m.Len() != len(want) {
			t.Fatalf("round %d: merged %d entries, want %d", round, m.Len(), len(want))
		}
		for id, e := range want {
			if got, ok, err := m.Find(id); err != nil || !ok || got != e {
				t.Fatalf("round %d: %s = %+v %v %v, want %+v", round, id.Short(), got, ok, err, e)
			}
		}
		for _, p := range m.Packs() {
			if dead[p] {
				t.Fatalf("round %d: merged file names dead pack %s", round, p.Short())
			}
		}
		perFile := 0
		for _, f := range files {
			perFile += len(f.Packs())
		}
		n := 0
		for _, c := range asked {
			n += c
		}
		if n != perFile {
			t.Fatalf("round %d: live asked %d times, want once per pack and file (%d)", round, n, perFile)
		}
	}
}
