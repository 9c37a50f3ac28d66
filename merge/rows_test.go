package merge_test

import (
	"bytes"
	"testing"

	"github.com/dxdata/dx/merge"
)

// TestSplitRows: pieces rejoin to the data, and each ends at a row end,
// outside quotes.
func TestSplitRows(t *testing.T) {
	data := []byte("a,\"x\ny\"\nb,c\nd,\"e\n\n\"\nf,g\n")
	for n := 1; n <= 8; n++ {
		pieces := merge.SplitRowsForTest(data, n, true)
		if !bytes.Equal(bytes.Join(pieces, nil), data) {
			t.Fatalf("n=%d: pieces do not rejoin", n)
		}
		for _, p := range pieces {
			if len(p) == 0 || p[len(p)-1] != '\n' || bytes.Count(p, []byte{'"'})%2 != 0 {
				t.Fatalf("n=%d: piece %q does not end at a row end", n, p)
			}
		}
	}
}
