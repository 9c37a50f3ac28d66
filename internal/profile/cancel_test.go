package profile

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/dxdata/dx/internal/table"
)

// TestCancelRows: against counting rows, on random edits of random row
// lists (updates, inserts, deletes, repeats, moves) cut into spans: the
// rows left of each side and the whole spans put in make exactly the
// multiset difference of the two sides, with no row left on both.
func TestCancelRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for round := range 400 {
		old := make([]string, rng.IntN(300))
		for i := range old {
			old[i] = fmt.Sprintf("%d,%d", rng.IntN(50), rng.IntN(4))
		}
		neu := slices.Clone(old)
		for range rng.IntN(12) {
			if len(neu) == 0 {
				break
			}
			i := rng.IntN(len(neu))
			switch rng.IntN(5) {
			case 0:
				neu[i] = fmt.Sprintf("u%d", rng.IntN(1000))
			case 1:
				neu = slices.Delete(neu, i, i+1)
			case 2:
				neu = slices.Insert(neu, i, fmt.Sprintf("i%d", rng.IntN(1000)))
			case 3:
				neu = slices.Insert(neu, i, neu[rng.IntN(len(neu))])
			default:
				r := neu[i]
				neu = slices.Delete(neu, i, i+1)
				neu = slices.Insert(neu, rng.IntN(len(neu)+1), r)
			}
		}
		spansOf := func(rows []string) ([]spanRows, [][]string) {
			var out []spanRows
			var texts [][]string
			for len(rows) > 0 {
				k := min(len(rows), 1+rng.IntN(40))
				data := []byte(strings.Join(rows[:k], "\n") + "\n")
				sr := splitRows(table.New(table.Spec{Format: table.CSV}), data)
				sr.gap = len(out) / 3 // gaps that do not line up, too
				out = append(out, sr)
				texts, rows = append(texts, rows[:k]), rows[k:]
			}
			return out, texts
		}
		out, _ := spansOf(old)
		in, inTexts := spansOf(neu)
		outRows, inRows, whole, ok := cancelRows(out, in)
		if !ok {
			t.Fatalf("round %d: rows of one hash differ", round)
		}
		count := func(m map[string]int, rows []string, by int) {
			for _, r := range rows {
				m[r] += by
			}
		}
		lines := func(b []byte) []string {
			s := strings.TrimSuffix(string(b), "\n")
			if s == "" {
				return nil
			}
			return strings.Split(s, "\n")
		}
		want, got := map[string]int{}, map[string]int{}
		count(want, neu, 1)
		count(want, old, -1)
		count(got, lines(inRows), 1)
		for _, s := range whole {
			count(got, inTexts[s], 1)
		}
		count(got, lines(outRows), -1)
		for r, n := range want {
			if got[r] != n {
				t.Fatalf("round %d: row %q %+d, want %+d", round, r, got[r], n)
			}
		}
		for r, n := range got {
			if want[r] != n {
				t.Fatalf("round %d: row %q %+d, want %+d", round, r, n, want[r])
			}
		}
		// No row left on both sides.
		left := map[string]bool{}
		for _, r := range lines(outRows) {
			left[r] = true
		}
		inLeft := lines(inRows)
		for _, s := range whole {
			inLeft = append(inLeft, inTexts[s]...)
		}
		for _, r := range inLeft {
			if left[r] {
				t.Fatalf("round %d: %q left on both sides", round, r)
			}
		}
	}
}
