package check

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// countedSource counts the bytes read from a memSource and, if ranged,
// knows each chunk's key range (the first field of its rows) without
// reading it, as the store's index does.
type countedSource struct {
	*memSource
	read   atomic.Int64
	ranged bool
}

func (s *countedSource) AppendChunk(ctx context.Context, i int, dst []byte) ([]byte, error) {
	s.read.Add(int64(len(s.chunks[i])))
	return s.memSource.AppendChunk(ctx, i, dst)
}

func (s *countedSource) KeyRanges(_ context.Context, _ merge.Header, idx []int) ([]dag.KeyRange, []bool, error) {
	out, ok := make([]dag.KeyRange, len(idx)), make([]bool, len(idx))
	if !s.ranged {
		return out, ok, nil
	}
	for k, i := range idx {
		lines := strings.Split(strings.TrimSuffix(string(s.chunks[i]), "\n"), "\n")
		if i == 0 {
			lines = lines[1:]
		}
		for j, l := range lines {
			key, _, _ := strings.Cut(l, ",")
			if j == 0 || dag.CompareKeys(key, out[k].Lo) < 0 {
				out[k].Lo = key
			}
			if j == 0 || dag.CompareKeys(key, out[k].Hi) > 0 {
				out[k].Hi = key
			}
		}
		ok[k] = len(lines) > 0
	}
	return out, ok, nil
}

// TestChangedReadsFreshChunks: a few rows updated and some appended in a
// large table sorted by its key: the check reads the new version's fresh
// chunks (and the first, for the header) and, with key ranges known, not
// one byte of the old version. Without them, rows only updated cost a read
// of the old chunks the new version lacks (appended keys are looked for
// in all the others). A key brought twice is still found.
func TestChangedReadsFreshChunks(t *testing.T) {
	tb := table.New(table.Spec{Format: table.CSV, Key: []string{"id"}})
	ctx := context.Background()
	var rows [][]string
	for i := range 20000 {
		rows = append(rows, []string{fmt.Sprint(i), fmt.Sprintf("name%d", i%977), fmt.Sprint(i % 100)})
	}
	edited := slices.Clone(rows)
	for _, i := range []int{100, 5000, 12345, 19999} {
		edited[i] = []string{rows[i][0], "changed", "7"}
	}
	updated := slices.Clone(edited)
	for i := range 50 {
		edited = append(edited, []string{fmt.Sprint(20000 + i), "appended", "1"})
	}
	oldText := tableText(rows)
	for _, ranged := range []bool{true, false} {
		newText := tableText(edited)
		if !ranged {
			newText = tableText(updated)
		}
		old := &countedSource{memSource: newMemSource(oldText), ranged: ranged}
		nv := &countedSource{memSource: newMemSource(newText), ranged: ranged}
		cut := merge.DiffOptions{Aligned: true, MaxChunk: 1 << 30}
		err := Changed(ctx, tb, Version{Path: "t.csv", Source: old, Cut: cut}, Version{Path: "t.csv", Source: nv, Cut: cut})
		if err != nil {
			t.Fatalf("ranged %v: %v", ranged, err)
		}
		have := map[dag.ID]bool{}
		for _, c := range old.refs {
			have[c.ID] = true
		}
		var fresh, oldOnly int64
		for i, c := range nv.refs {
			if !have[c.ID] || i == 0 {
				fresh += int64(c.Len)
			}
		}
		inNew := map[dag.ID]bool{}
		for _, c := range nv.refs {
			inNew[c.ID] = true
		}
		for _, c := range old.refs {
			if !inNew[c.ID] {
				oldOnly += int64(c.Len)
			}
		}
		if nv.read.Load() > 2*fresh || fresh > int64(len(newText))/10 {
			t.Errorf("ranged %v: read %d bytes of the new version, whose fresh chunks hold %d of %d", ranged, nv.read.Load(), fresh, len(newText))
		}
		switch {
		case ranged && old.read.Load() != 0:
			t.Errorf("read %d bytes of the old version, with its key ranges known", old.read.Load())
		case !ranged && old.read.Load() > oldOnly:
			t.Errorf("read %d bytes of the old version, whose chunks the new one lacks hold %d", old.read.Load(), oldOnly)
		}
	}
	// The same keys, brought again among the appended rows.
	for _, dup := range []string{"5000", "20003", "7"} {
		again := append(slices.Clone(edited), []string{dup, "again", "1"})
		cut := merge.DiffOptions{Aligned: true, MaxChunk: 1 << 30}
		old := &countedSource{memSource: newMemSource(oldText), ranged: true}
		err := Changed(ctx, tb, Version{Path: "t.csv", Source: old, Cut: cut}, Version{Path: "t.csv", Source: newMemSource(tableText(again)), Cut: cut})
		full := Full(ctx, tb, version(tableText(again)))
		if err == nil || full == nil || !strings.Contains(err.Error(), fmt.Sprintf("duplicate key %q", dup)) || !strings.HasPrefix(err.Error(), fmt.Sprintf("t.csv:%d:", len(again)+1)) {
			t.Errorf("key %s brought again: %v (a full check: %v)", dup, err, full)
		}
	}
}
