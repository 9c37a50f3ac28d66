package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

type parquetRow struct {
	ID     int64   `parquet:"id"`
	Name   string  `parquet:"name"`
	Amount float64 `parquet:"amount"`
	Region string  `parquet:"region,dict"`
}

func parquetRows(n int) []parquetRow {
	rng := rand.New(rand.NewPCG(20, 1))
	rs := make([]parquetRow, n)
	for i := range rs {
		rs[i] = parquetRow{ID: int64(i), Name: fmt.Sprintf("customer-%d-%x", i, rng.Uint64()),
			Amount: rng.Float64() * 1000, Region: []string{"eu", "us", "apac"}[rng.IntN(3)]}
	}
	return rs
}

// writeParquetFile writes rs with parquet-go, zstd, in row groups of
// 20,000 rows.
func writeParquetFile(t *testing.T, path string, rs []parquetRow) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[parquetRow](&buf, parquet.Compression(&parquet.Zstd), parquet.MaxRowsPerRowGroup(20000))
	if _, err := w.Write(rs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// commitStats commits and returns the store's counters.
func commitStats(t *testing.T, r *repoDir, msg string) map[string]int64 {
	t.Helper()
	res := r.run("--stats", "commit", "-q", "-m", msg)
	if res.code != 0 {
		t.Fatalf("commit: %s", res.stderr)
	}
	return lastJSON(t, res.stderr)
}

// TestParquetRewriteStoresLittle: a Parquet file rewritten after a row
// changes stores a small fraction of itself, reads back exactly and leaves
// a clean status and a good fsck; the same file with -table is cut as plain
// bytes.
func TestParquetRewriteStoresLittle(t *testing.T) {
	r := newRepo(t)
	rs := parquetRows(400000)
	v1 := writeParquetFile(t, r.path("sales.parquet"), rs)
	s1 := commitStats(t, r, "v1")
	// All of v1 is stored but pages it repeats (a page that is a chunk
	// of its own is stored once).
	if s1["data_bytes_raw"] < int64(len(v1))*99/100 {
		t.Fatalf("v1 stored %d raw bytes of %d", s1["data_bytes_raw"], len(v1))
	}
	// One row changes: two pages (name and amount) of one row group are
	// new, with the page indexes and the footer.
	rs[70001].Name, rs[70001].Amount = "changed", -1
	v2 := writeParquetFile(t, r.path("sales.parquet"), rs)
	if st := r.ok("status", "--short"); !strings.Contains(st, "sales.parquet") {
		t.Fatalf("status does not see the rewrite: %q", st)
	}
	s2 := commitStats(t, r, "v2")
	t.Logf("v1 %d bytes; v2 %d bytes, %d new in %d chunks", len(v1), len(v2), s2["data_bytes_raw"], s2["chunks_written"])
	if s2["data_bytes_raw"] == 0 || s2["data_bytes_raw"] > int64(len(v2))/10 {
		t.Fatalf("v2 stored %d new bytes of %d, want some and at most a tenth", s2["data_bytes_raw"], len(v2))
	}
	if got := r.ok("cat", "HEAD:sales.parquet"); got != string(v2) {
		t.Fatal("dx cat HEAD:sales.parquet differs from the file committed")
	}
	if got := r.ok("cat", "HEAD~1:sales.parquet"); got != string(v1) {
		t.Fatal("dx cat HEAD~1:sales.parquet differs from the first version")
	}
	if st := r.ok("status", "--short"); st != "" {
		t.Fatalf("status after commit: %q (hashing cuts the file otherwise than storing)", st)
	}
	r.ok("fsck")
}

// TestParquetAttributes: table=parquet cuts a file as its magic bytes do,
// -table cuts it as plain bytes; status agrees with commit on each.
func TestParquetAttributes(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "plain/** -table\nnamed/** table=parquet\n")
	rs := parquetRows(50000)
	for _, dir := range []string{"plain", "named", "sniffed"} {
		if err := os.MkdirAll(r.path(dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeParquetFile(t, r.path("sniffed/t.data"), rs)
	commitStats(t, r, "sniffed")
	// The same bytes under table=parquet are the same chunks: nothing new.
	writeParquetFile(t, r.path("named/t.data"), rs)
	if s := commitStats(t, r, "named"); s["data_bytes_raw"] != 0 {
		t.Fatalf("table=parquet stored %d new bytes of a file stored already", s["data_bytes_raw"])
	}
	// Under -table they are cut as plain bytes: other chunks.
	v := writeParquetFile(t, r.path("plain/t.data"), rs)
	if s := commitStats(t, r, "plain"); s["data_bytes_raw"] < int64(len(v))/2 {
		t.Fatalf("-table stored %d new bytes of %d: not cut as plain bytes", s["data_bytes_raw"], len(v))
	}
	if st := r.ok("status", "--short"); st != "" {
		t.Fatalf("status after commit: %q", st)
	}
}

// TestNotParquetStoredAsBytes: a file that looks like Parquet but is not
// valid (a corrupt footer, a truncation) commits with one warning line per
// file and reads back exactly.
func TestNotParquetStoredAsBytes(t *testing.T) {
	r := newRepo(t)
	good := writeParquetFile(t, r.path("good.parquet"), parquetRows(5000))
	bad := bytes.Clone(good)
	for i := len(bad) - 200; i < len(bad)-8; i++ {
		bad[i] = 0xff
	}
	if err := os.WriteFile(r.path("corrupt.parquet"), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	short := append(bytes.Clone(good[:len(good)/2]), "PAR1"...)
	if err := os.WriteFile(r.path("truncated.parquet"), short, 0o644); err != nil {
		t.Fatal(err)
	}
	r.write(".dxattributes", "notes.txt table=parquet\n")
	r.write("notes.txt", "not parquet at all\n")
	res := r.run("commit", "-m", "files")
	if res.code != 0 {
		t.Fatalf("commit failed (%d): %s", res.code, res.stderr)
	}
	for _, name := range []string{"corrupt.parquet", "truncated.parquet", "notes.txt"} {
		if n := strings.Count(res.stderr, name+": not valid Parquet"); n != 1 {
			t.Fatalf("%d warnings about %s, want 1:\n%s", n, name, res.stderr)
		}
	}
	if strings.Contains(res.stderr, "good.parquet") {
		t.Fatalf("a warning about the valid file:\n%s", res.stderr)
	}
	for name, want := range map[string][]byte{"corrupt.parquet": bad, "truncated.parquet": short, "good.parquet": good} {
		if got := r.ok("cat", "HEAD:"+name); got != string(want) {
			t.Fatalf("dx cat HEAD:%s differs from the file", name)
		}
	}
	if st := r.ok("status", "--short"); st != "" {
		t.Fatalf("status after commit: %q", st)
	}
	r.ok("fsck")
}

// TestParquetCheckoutMovedPages: a version of a Parquet file whose first
// row group is gone has all its pages at new offsets; they are the same
// chunks, so switching between the versions copies them from the file in
// place and writes only the page indexes and footer, and each checkout is
// that version exactly.
func TestParquetCheckoutMovedPages(t *testing.T) {
	r := newRepo(t)
	rs := parquetRows(200000)
	past := time.Now().Add(-time.Minute)
	commit := func(rows []parquetRow, msg string) (string, int64) {
		t.Helper()
		data := writeParquetFile(t, r.path("t.parquet"), rows)
		// Older than the commit by more than the stat cache's racy window.
		if err := os.Chtimes(r.path("t.parquet"), past, past); err != nil {
			t.Fatal(err)
		}
		s := commitStats(t, r, msg)
		t.Logf("%s: %d bytes, %d new", msg, len(data), s["data_bytes_raw"])
		return string(data), s["data_bytes_raw"]
	}
	v1, _ := commit(rs, "v1")
	v2, fresh := commit(rs[20000:], "v2: the first row group removed")
	if fresh == 0 || fresh > int64(len(v2))/50 {
		t.Fatalf("v2 stored %d new bytes of %d; want only its page indexes and footer", fresh, len(v2))
	}
	for _, step := range []struct{ rev, want string }{{"main~1", v1}, {"main", v2}} {
		var res struct {
			Bytes  int64 `json:"bytes_written"`
			Copied int64 `json:"bytes_copied"`
		}
		if err := json.Unmarshal([]byte(r.ok("checkout", "--json", step.rev)), &res); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(r.path("t.parquet"))
		if err != nil || string(got) != step.want {
			t.Fatalf("checkout %s: the file is not that version (%v)", step.rev, err)
		}
		t.Logf("checkout %s: %d bytes written, %d copied in the kernel", step.rev, res.Bytes, res.Copied)
		if step.rev == "main" && res.Copied < int64(len(step.want))*9/10 {
			t.Errorf("checkout %s copied %d of %d bytes from the file in place; want all but indexes and footer", step.rev, res.Copied, len(step.want))
		}
		if err := os.Chtimes(r.path("t.parquet"), past, past); err != nil {
			t.Fatal(err)
		}
		r.ok("status")
	}
	r.ok("fsck")
}
