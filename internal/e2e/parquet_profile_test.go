package e2e

import (
	"math/rand/v2"
	"os"
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
