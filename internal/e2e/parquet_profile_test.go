package e2e

import (
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// measureParquet is a measureRow as a Parquet row: an empty category is
// null.
type measureParquet struct {
	ID     int64   `parquet:"id"`
	Cat    *string `parquet:"cat,optional"`
	Amount float64 `parquet:"amount"`
	Score  int64   `parquet:"score"`
}

// writeMeasureParquet writes rows in row groups of 20,000 rows and pages
// of 4 KiB, with page indexes.
func writeMeasureParquet(t *testing.T, path string, rows []measureRow) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := parquet.NewGenericWriter[measureParquet](f, parquet.Compression(&parquet.Zstd), parquet.MaxRowsPerRowGroup(20000), parquet.PageBufferSize(64<<10))
	for _, r := range rows {
		m := measureParquet{ID: int64(r.id), Amount: r.amount, Score: int64(r.score)}
		if r.cat != "" {
			m.Cat = &r.cat
		}
		if _, err := w.Write([]measureParquet{m}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestParquetProfile: dx profile of a Parquet table has the exact
// figures of its rows; a version with a few rows changed and some
// appended decodes only the segments whose pages changed, and keeps the
// exact figures; dx drift compares the two.
func TestParquetProfile(t *testing.T) {
	r := newRepo(t)
	rng := rand.New(rand.NewPCG(19, 3))
	rows := measureRows(rng, 1, 60000)
	r.write(".dxattributes", "*.parquet table=parquet key=id\n")
	writeMeasureParquet(t, r.path("m.parquet"), rows)
	r.ok("commit", "-m", "v1")
	p1 := r.profile("HEAD:m.parquet")
	if p1.Chunks < 10 || p1.Computed != p1.Chunks || p1.Reused != 0 {
		t.Fatalf("first profile: %d segments, %d computed, %d reused", p1.Chunks, p1.Computed, p1.Reused)
	}
	checkMeasureProfile(t, p1, rows)
	if again := r.profile("HEAD:m.parquet"); again.Rows != p1.Rows {
		t.Fatalf("second profile: %+v", again)
	}

	for _, i := range []int{100, 45000} {
		rows[i].score = 49
	}
	rows = append(rows, measureRows(rng, 60001, 500)...)
	writeMeasureParquet(t, r.path("m.parquet"), rows)
	r.ok("commit", "-m", "v2")
	p2 := r.profile("HEAD:m.parquet")
	if p2.Computed == 0 || p2.Computed > p2.Chunks/3 || p2.Reused+p2.Computed != p2.Chunks {
		t.Fatalf("v2: %d segments, %d computed, %d reused: want only the changed ones", p2.Chunks, p2.Computed, p2.Reused)
	}
	t.Logf("v2: %d segments, %d computed", p2.Chunks, p2.Computed)
	checkMeasureProfile(t, p2, rows)
	if out := r.ok("drift", "HEAD~1", "HEAD", "--json"); len(out) < 10 {
		t.Fatalf("drift: %s", out)
	}
}

// nullable is a Parquet row with a column that may be null.
type nullable struct {
	ID   int64   `parquet:"id"`
	Note *string `parquet:"note,optional"`
}

// TestParquetEdges: a Parquet table without rows profiles as its schema's
// columns, empty, and breaks a row-count bound; a column of nulls only
// profiles as nulls and breaks a type only where a value is.
func TestParquetEdges(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.parquet table=parquet key=id\n")
	write := func(name string, rows []nullable) {
		f, err := os.Create(r.path(name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		w := parquet.NewGenericWriter[nullable](f)
		if _, err := w.Write(rows); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	write("empty.parquet", nil)
	nulls := make([]nullable, 50)
	for i := range nulls {
		nulls[i].ID = int64(i)
	}
	write("nulls.parquet", nulls)
	r.write("dx.contract.yaml", "tables:\n  - path: \"*.parquet\"\n    rows: {min: 1}\n    columns:\n      - name: note\n        type: int\n")
	r.fails("empty.parquet: (rows): min 1: 0", "commit", "-m", "v1")
	r.ok("commit", "--no-verify", "-m", "v1")
	e := r.profile("HEAD:empty.parquet")
	if e.Rows != 0 || len(e.Columns) != 2 || e.Columns[0].Name != "id" || e.Columns[0].Type != "empty" || e.Columns[1].Name != "note" {
		t.Fatalf("empty table: %+v", e)
	}
	n := r.profile("HEAD:nulls.parquet")
	if n.Rows != 50 || len(n.Columns) != 2 || n.Columns[1].Nulls != 50 || n.Columns[1].Count != 0 || n.Columns[0].Count != 50 {
		t.Fatalf("a column of nulls: %+v", n)
	}
	res := r.exits(exitInvalidData, "1 violations", "check")
	if strings.TrimSpace(res.stdout) != "empty.parquet: (rows): min 1: 0" {
		t.Fatalf("check: %q", res.stdout)
	}
}
