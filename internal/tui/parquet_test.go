package tui

import (
	"bytes"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/parquet-go/parquet-go"
)

type tuiParquetRow struct {
	ID   int64  `parquet:"id"`
	City string `parquet:"city"`
}

func parquetBytes(t *testing.T, rows []tuiParquetRow) string {
	t.Helper()
	var b bytes.Buffer
	if err := parquet.Write(&b, rows); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestParquetRowDiff: the drill-down shows a Parquet table's row diff
// (computed whole, then listed as a stream of one batch).
func TestParquetRowDiff(t *testing.T) {
	h := newTestHistory(t)
	h.commit("Import", map[string]string{
		".dxattributes":  "*.parquet table=parquet key=id\n",
		"data/t.parquet": parquetBytes(t, []tuiParquetRow{{1, "Paris"}, {2, "Rome"}, {3, "Oslo"}}),
	}, nil)
	h.commit("Update", map[string]string{
		"data/t.parquet": parquetBytes(t, []tuiParquetRow{{1, "Lyon"}, {2, "Rome"}, {4, "Kyiv"}}),
	}, nil)
	tm := startUI(t, h, Options{})
	waitFor(t, tm, "M data/t.parquet")
	press(tm, "tab")
	waitFor(t, tm, ">M data/t.parquet")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitFor(t, tm, "+1 -1 ~1 rows 1-3/3 ")
	_, screen := quitScreen(t, tm)
	// Values are JSON, as in every output of a Parquet row diff.
	for _, want := range []string{`~ 1: 1,["Paris" → "Lyon"]`, `+ 4: 4,"Kyiv"`, `- 3: 3,"Oslo"`} {
		if !strings.Contains(screen, want) {
			t.Errorf("no %q on the screen:\n%s", want, screen)
		}
	}
}
