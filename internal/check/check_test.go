package check

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// memSource is a table file in memory, cut after a row whose hash says so
// (content-defined, so versions share the chunks of rows they share).
type memSource struct {
	chunks [][]byte
	refs   []dag.ChunkRef
}

func newMemSource(data string) *memSource {
	s := &memSource{}
	start := 0
	for i := 0; i < len(data); i++ {
		if data[i] != '\n' {
			continue
		}
		line := data[start : i+1]
		if i+1 == len(data) || dag.Hash(dag.KindChunk, []byte(line))[0]%5 == 0 {
			s.add(data[start : i+1])
			start = i + 1
		}
	}
	if start < len(data) {
		s.add(data[start:])
	}
	return s
}

func (s *memSource) add(c string) {
	s.chunks = append(s.chunks, []byte(c))
	s.refs = append(s.refs, dag.ChunkRef{ID: dag.Hash(dag.KindChunk, []byte(c)), Len: uint32(len(c))})
}

func (s *memSource) Chunks() []dag.ChunkRef { return s.refs }

func (s *memSource) AppendChunk(_ context.Context, i int, dst []byte) ([]byte, error) {
	return append(dst, s.chunks[i]...), nil
}

func version(data string) Version {
	return Version{Path: "t.csv", Source: newMemSource(data), Cut: merge.DiffOptions{Aligned: true, MaxChunk: 1 << 30}}
}

func tableText(rows [][]string) string {
	var b strings.Builder
	b.WriteString("id,name,n\n")
	for _, r := range rows {
		b.WriteString(strings.Join(r, ","))
		b.WriteByte('\n')
	}
	return b.String()
}

// TestFull: a whole version's first broken rule, at its line.
func TestFull(t *testing.T) {
	tb := table.New(table.Spec{Format: table.CSV, Key: []string{"id"}})
	for _, tc := range []struct{ data, want string }{
		{"id,name,n\n1,a,1\n2,b,2\n", ""},
		{"id,name,n\n1,a,1\n2,b\n", "t.csv:3: wrong number of fields"},
		{"id,name,n\n1,a,1\n2,\"b,2\n", "t.csv:3: "},
		{"id,name,n\n1,a,1\n2,b,2\n1,c,3\n", `t.csv:4: duplicate key "1" (first on line 2)`},
		{"id,name,n\n3,a,1\n2,b,2\n3,c,3\n", `t.csv:4: duplicate key "3" (first on line 2)`},
		{"x,name,n\n1,a,1\n", `t.csv:1: key column "id" is not in the header`},
		{"", ""},
	} {
		err := Full(context.Background(), tb, version(tc.data))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.data, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want) || !errors.Is(err, ErrInvalid)):
			t.Errorf("%q: %v, want %s…", tc.data, err, tc.want)
		}
	}
}

// TestChangedAgreesWithFull: over random tables and random edits (rows
// updated, removed, inserted; some inserted with a key the table has, some
// ragged), checking only what changed against a valid old version finds
// the new one valid exactly when a full check does.
func TestChangedAgreesWithFull(t *testing.T) {
	tb := table.New(table.Spec{Format: table.CSV, Key: []string{"id"}})
	ctx := context.Background()
	bad := 0
	for seed := uint64(1); seed <= 300; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		n := 20 + rng.IntN(300)
		var rows [][]string
		for i := 0; i < n; i++ {
			rows = append(rows, []string{fmt.Sprint(i * 2), fmt.Sprintf("name%d", rng.IntN(1000)), fmt.Sprint(rng.IntN(100))})
		}
		if rng.IntN(3) == 0 {
			rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		}
		old := tableText(rows)
		if err := Full(ctx, tb, version(old)); err != nil {
			t.Fatalf("seed %d: the old version: %v", seed, err)
		}
		edited := slices.Clone(rows)
		for e := 0; e < 1+rng.IntN(5); e++ {
			i := rng.IntN(len(edited))
			switch rng.IntN(6) {
			case 0:
				edited[i] = []string{edited[i][0], "changed", "0"}
			case 1:
				edited = slices.Delete(edited, i, i+1)
			case 2:
				edited = slices.Insert(edited, i, []string{fmt.Sprint(2*n + 1 + 2*e), "new", "1"})
			case 3:
				edited = append(edited, []string{fmt.Sprint(2*n + 1 + 2*e), "appended", "1"})
			case 4: // a key the table has
				edited = slices.Insert(edited, rng.IntN(len(edited)+1), []string{edited[rng.IntN(len(edited))][0], "dup", "1"})
			case 5: // a ragged row
				edited[i] = []string{edited[i][0], "ragged"}
			}
			if len(edited) == 0 {
				edited = append(edited, []string{"1", "x", "1"})
			}
		}
		nv := tableText(edited)
		full := Full(ctx, tb, version(nv))
		changed := Changed(ctx, tb, version(old), version(nv))
		if (full == nil) != (changed == nil) {
			t.Fatalf("seed %d: full check %v, check of the change %v\nold:\n%s\nnew:\n%s", seed, full, changed, old, nv)
		}
		if full != nil {
			bad++
			if !errors.Is(changed, ErrInvalid) {
				t.Fatalf("seed %d: %v is not a violation", seed, changed)
			}
		}
	}
	if bad == 0 || bad == 300 {
		t.Fatalf("%d of 300 edits invalid: the test tests one side only", bad)
	}
}
