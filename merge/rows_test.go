package merge_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// TestSplitRows: pieces rejoin to the data, and each ends at a row end,
// outside quoted fields, as the parser reads them: the rows parsed piece
// by piece are the rows parsed whole. A bare quote in an unquoted field
// (37°36'37.8"N) opens nothing.
func TestSplitRows(t *testing.T) {
	data := []byte("a,b\n1,\"x\ny\"\n2,c\n3,\"e\n\n\"\n4,37°36'37.8\"N\n5,\"ab\"c\"\n6,\"q\"\"\n\"\n")
	rd := table.New(table.Spec{Format: table.CSV, Key: []string{"a"}})
	h, hl, err := rd.Header(data, true)
	if err != nil {
		t.Fatal(err)
	}
	body := data[hl:]
	want := parseAll(t, rd, h, body)
	for n := 1; n <= 8; n++ {
		pieces := merge.SplitRowsForTest(body, n, rd)
		if !bytes.Equal(bytes.Join(pieces, nil), body) {
			t.Fatalf("n=%d: pieces do not rejoin", n)
		}
		var got []string
		for _, p := range pieces {
			if len(p) == 0 || p[len(p)-1] != '\n' {
				t.Fatalf("n=%d: piece %q does not end at a line end", n, p)
			}
			got = append(got, parseAll(t, rd, h, p)...)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d: rows %q, want %q", n, got, want)
		}
	}
}

// parseAll is the rows of data, each as its fields joined by '|'.
func parseAll(t *testing.T, rd *table.Reader, h merge.Header, data []byte) []string {
	t.Helper()
	var rows []string
	err := rd.Parse(h, data, false, func(r merge.Row) error {
		rows = append(rows, strings.Join(r.Vals, "|"))
		return nil
	})
	if err != nil {
		t.Fatalf("%q: %v", data, err)
	}
	return rows
}
