package repo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dxdata/dx/internal/check"
	"github.com/dxdata/dx/internal/csvdialect"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// TestQuotedLineEndsCommitCheck: commits of a ';' table whose quoted
// notes hold line ends (so that some cuts fall inside rows), each after a
// random edit that may repeat a key, break a row or change a note's lines:
// the commit's check, reading across the cuts inside rows, accepts and
// refuses exactly what reading the whole file says.
func TestQuotedLineEndsCommitCheck(t *testing.T) {
	ctx := context.Background()
	r, dir := newDialectRepo(t, "*.csv table=csv delimiter=; key=id\n")
	spec := table.Spec{Format: table.CSV, Key: []string{"id"}, Dialect: csvdialect.Dialect{Comma: ';', Quote: '"'}}
	rng := rand.New(rand.NewPCG(11, 12))
	type row struct{ id, note string }
	var rows []row
	for i := range 40000 {
		note := fmt.Sprintf("note %d", i)
		if rng.IntN(20) == 0 {
			note = fmt.Sprintf("\"note %d;\n%d\"", i, rng.IntN(1000))
		}
		rows = append(rows, row{fmt.Sprint(i), note})
	}
	render := func(rows []row) string {
		var b strings.Builder
		b.WriteString("id;note;n\n")
		for i, rw := range rows {
			fmt.Fprintf(&b, "%s;%s;%d\n", rw.id, rw.note, i%7)
		}
		return b.String()
	}
	path := filepath.Join(dir, "data", "t.csv")
	write := func(text string) {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// wholeVerdict reads the whole file: does it parse, with distinct keys?
	wholeVerdict := func(text string) bool {
		tr := table.New(spec)
		h, n, err := tr.Header([]byte(text), true)
		if err != nil {
			return false
		}
		seen := map[string]bool{}
		err = tr.Parse(h, []byte(text)[n:], true, func(rw merge.Row) error {
			if seen[rw.Key] {
				return errors.New("duplicate")
			}
			seen[rw.Key] = true
			return nil
		})
		return err == nil
	}
	write(render(rows))
	if _, err := r.Commit(ctx, CommitOptions{Message: "v1"}); err != nil {
		t.Fatal(err)
	}
	refused := 0
	for round := range 24 {
		next := append([]row(nil), rows...)
		i := rng.IntN(len(next))
		switch round % 4 {
		case 0: // a key again, far from its row
			next = append(next, row{next[rng.IntN(len(next))].id, "again"})
		case 1: // a row with a field too few
			next[i].note = "short\"" + strings.Repeat("x", rng.IntN(3))
			next[i].id = next[i].id + ";x;y"
		case 2: // a note over lines changed
			next[i].note = fmt.Sprintf("\"changed;\n%d\nlines\"", round)
		case 3: // a new key
			next = append(next[:i], append([]row{{fmt.Sprintf("new%d", round), "\"n;\ne\""}}, next[i:]...)...)
		}
		text := render(next)
		write(text)
		res, err := r.Commit(ctx, CommitOptions{Message: fmt.Sprint(round)})
		var v *check.Violation
		if err != nil && !errors.As(err, &v) {
			t.Fatalf("round %d: %v", round, err)
		}
		if want := wholeVerdict(text); (err == nil) != want {
			t.Fatalf("round %d (edit %d): commit refused %v, the whole file is a good table: %v", round, round%4, err, want)
		}
		// Parsing whole reads both versions; the check reads a part. (A
		// new key is looked up in the spans of the old version whose key
		// ranges could hold it or are not known, as beside a cut inside a
		// row: in this small table, most of them.)
		if err == nil && round%4 != 3 && res.Verified.BytesRead > int64(len(text))/2 {
			t.Errorf("round %d (edit %d): the check read %d bytes of two versions of %d", round, round%4, res.Verified.BytesRead, len(text))
		}
		if err == nil {
			rows = next
		} else {
			refused++
			write(render(rows))
		}
	}
	if refused == 0 {
		t.Fatal("no edit was refused: the test tests nothing")
	}
}
