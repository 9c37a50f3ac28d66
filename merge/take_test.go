package merge

import (
	"testing"

	"github.com/dxdata/dx/dag"
)

// TestPlaceTakes: a take goes in only where every chunk it replaces was
// kept as it was; where a rewritten run reaches into it, it stays out (and
// its changes are then written by the rewrite).
func TestPlaceTakes(t *testing.T) {
	ref := func(b byte) dag.ChunkRef { return dag.ChunkRef{ID: dag.Hash(dag.KindChunk, []byte{b}), Len: 10} }
	p := &side{chunks: []dag.ChunkRef{ref(0), ref(1), ref(2), ref(3), ref(4), ref(5)}, offs: []int64{0, 10, 20, 30, 40, 50}}
	o := &side{chunks: []dag.ChunkRef{ref(0), ref(9), ref(8), ref(3), ref(4), ref(7)}, offs: []int64{0, 10, 20, 30, 40, 50}}
	host := &tableDiff{differ: &differ{sides: [2]*side{nil, p}}}
	other := &tableDiff{differ: &differ{sides: [2]*side{nil, o}}}
	kept := func(i int) Piece { c := p.chunks[i]; return Piece{Chunk: &c, Off: p.offs[i]} }
	t1 := &take{u: &unit{r: [2]*span{nil, {1, 3}}}, from: 1, n: 2} // ours 1-2 → theirs 1-2
	t2 := &take{u: &unit{r: [2]*span{nil, {5, 6}}}, from: 5, n: 1} // ours 5 → theirs 5

	for _, tc := range []struct {
		name   string
		pieces []Piece
		placed int
		ids    []byte // the chunks of the result (data pieces as 'd')
	}{
		{"both kept", []Piece{kept(0), kept(1), kept(2), kept(3), kept(4), kept(5)}, 2, []byte{0, 9, 8, 3, 4, 7}},
		{"first rewritten in part", []Piece{kept(0), kept(1), {Data: []byte("x")}, kept(3), kept(4), kept(5)}, 1, []byte{0, 1, 'd', 3, 4, 7}},
		{"last rewritten", []Piece{kept(0), kept(1), kept(2), kept(3), kept(4), {Data: []byte("x")}}, 1, []byte{0, 9, 8, 3, 4, 'd'}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := &RowMerge{Pieces: tc.pieces}
			placed := placeTakes(res, host, other, []*take{t1, t2})
			if len(placed) != tc.placed {
				t.Fatalf("%d takes placed, want %d", len(placed), tc.placed)
			}
			var got []byte
			for _, pc := range res.Pieces {
				if pc.Chunk == nil {
					got = append(got, 'd')
					continue
				}
				for b := range byte(10) {
					if pc.Chunk.ID == ref(b).ID {
						got = append(got, b)
					}
				}
			}
			if string(got) != string(tc.ids) {
				t.Fatalf("result chunks %v, want %v", got, tc.ids)
			}
		})
	}
}
