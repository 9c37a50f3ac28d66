package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// TestParquetRowDiff: with table=parquet and a key, dx diff --rows lists
// the rows an update and an append changed, decoding a small part of the
// table, in text, JSON, CSV and JSONL, against a commit and against the
// worktree; dx delta writes the same rows; a corrupt file is one clear
// line; a schema change diffs as one.
func TestParquetRowDiff(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.parquet table=parquet key=id\n")
	rs := parquetRows(100000)
	writeSmallPages(t, r.path("sales.parquet"), rs)
	r.ok("commit", "-m", "v1")
	model := filepath.Join(t.TempDir(), "model.bin")
	writeBytes(t, model, []byte("weights"))
	r.ok("model", "register", "sales", "--artifact", model, "--data", "HEAD")

	rs[70001].Name, rs[70001].Amount = "changed", -1
	rs = append(rs, parquetRows(100500)[100000:]...)
	writeSmallPages(t, r.path("sales.parquet"), rs)

	// Against the worktree (cut at its pages as a commit cuts it).
	if wt := r.ok("diff", "--rows"); !strings.Contains(wt, "sales.parquet (parquet key=id): 500 added, 0 removed, 1 changed rows") {
		t.Errorf("worktree diff:\n%.300s", wt)
	}
	r.ok("commit", "-m", "v2")
	var js []struct {
		Path                    string
		Table                   bool
		Format                  string
		Added, Removed, Changed int
		Rows                    []struct {
			Change  string
			Key     []string
			Old     map[string]any
			New     map[string]any
			Columns []string
		}
		Stats struct {
			BytesTotal  int64 `json:"bytes_total"`
			BytesRead   int64 `json:"bytes_read"`
			BytesParsed int64 `json:"bytes_parsed"`
			RowsDecoded int64 `json:"rows_decoded"`
		}
	}
	if err := json.Unmarshal([]byte(r.ok("diff", "--rows", "--json", "HEAD~1", "HEAD")), &js); err != nil {
		t.Fatal(err)
	}
	if len(js) != 1 || !js[0].Table || js[0].Format != "parquet" || js[0].Added != 500 || js[0].Removed != 0 || js[0].Changed != 1 {
		t.Fatalf("diff --json: %+v", js)
	}
	d := js[0]
	for _, row := range d.Rows {
		if row.Change == "changed" && (row.Key[0] != "70001" || row.New["name"] != "changed" || row.New["amount"] != -1.0 || strings.Join(row.Columns, ",") != "name,amount") {
			t.Errorf("changed row %+v", row)
		}
	}
	// Decoded whole: the changed row (in v2) and the appended ones; of
	// the other rows, only the changed columns' pages around the update
	// and the key column's around the changes.
	if d.Stats.RowsDecoded != 501 || d.Stats.BytesParsed > d.Stats.BytesTotal/20 || d.Stats.BytesRead > d.Stats.BytesTotal/5 {
		t.Errorf("decoded %d rows whole (want 501), parsed %d and read %d bytes of %d", d.Stats.RowsDecoded, d.Stats.BytesParsed, d.Stats.BytesRead, d.Stats.BytesTotal)
	}
	t.Logf("decoded %d of 200,500 rows whole, parsed %d bytes of pages, read %d bytes of %d", d.Stats.RowsDecoded, d.Stats.BytesParsed, d.Stats.BytesRead, d.Stats.BytesTotal)
	text := r.ok("diff", "--rows", "HEAD~1", "HEAD")
	if !strings.Contains(text, "sales.parquet (parquet key=id): 500 added, 0 removed, 1 changed rows") || !strings.Contains(text, "~ id=70001  name: ") {
		t.Errorf("text diff:\n%.600s", text)
	}
	csvOut := r.ok("diff", "--rows", "--format", "csv", "HEAD~1", "HEAD")
	if !strings.HasPrefix(csvOut, "_path,_change,id,name,amount,region\n") || !strings.Contains(csvOut, "sales.parquet,new,70001,changed,-1,") {
		t.Errorf("csv:\n%.400s", csvOut)
	}
	jl := r.ok("diff", "--rows", "--format", "jsonl", "HEAD~1", "HEAD")
	if n := strings.Count(jl, "\n"); n != 501 || !strings.Contains(jl, `"new":{"id":70001,"name":"changed","amount":-1,`) {
		t.Errorf("jsonl: %d lines:\n%.400s", n, jl)
	}

	// dx delta: the rows since the model's data, as the diff lists them.
	out := filepath.Join(t.TempDir(), "delta")
	var sum struct {
		Files []struct {
			Path                    string
			Table                   bool
			Added, Removed, Changed int
			Rows                    string
		}
	}
	if err := json.Unmarshal([]byte(r.ok("delta", "sales", "--out", out, "--json")), &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Files) != 1 || !sum.Files[0].Table || sum.Files[0].Added != 500 || sum.Files[0].Changed != 1 {
		t.Fatalf("delta: %+v", sum)
	}
	if b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(sum.Files[0].Rows))); err != nil || string(b) != jl {
		t.Errorf("delta rows differ from the diff's (%v)", err)
	}

	// A corrupt footer: one line, a distinct failure, nothing written.
	b, err := os.ReadFile(r.path("sales.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	for i := len(b) - 300; i < len(b)-8; i++ {
		b[i] ^= 0x5a
	}
	writeBytes(t, r.path("sales.parquet"), b)
	res := r.fails("not valid Parquet", "diff", "--rows")
	if strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 || !strings.Contains(res.stderr, "sales.parquet") {
		t.Errorf("corrupt file: %q", res.stderr)
	}
	// A schema change diffs as one.
	writeOtherParquet(t, r.path("sales.parquet"))
	text = r.ok("diff", "--rows")
	if !strings.Contains(text, "sales.parquet (parquet key=id): modified; the schema changed (") || !strings.Contains(text, "rows are not compared") {
		t.Errorf("schema change: %q", text)
	}
	r.fails("the schema changed", "diff", "--rows", "--format", "jsonl")

	// The corrupt file committed (as plain bytes, with a warning), dx
	// delta fails the same way, and writes nothing.
	writeBytes(t, r.path("sales.parquet"), b)
	r.ok("commit", "-q", "-m", "corrupt")
	bad := filepath.Join(t.TempDir(), "bad-delta")
	res = r.fails("not valid Parquet", "delta", "sales", "--out", bad)
	if strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
		t.Errorf("delta of a corrupt file: %q", res.stderr)
	}
	if ents, err := os.ReadDir(bad); err == nil && len(ents) > 0 {
		t.Errorf("delta wrote %d entries on error", len(ents))
	}
}

type otherParquetRow struct {
	ID   int64  `parquet:"id"`
	Name string `parquet:"name"`
}

func writeOtherParquet(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := parquet.Write(f, []otherParquetRow{{1, "x"}}); err != nil {
		t.Fatal(err)
	}
}

// writeSmallPages writes rs as writeParquetFile does, in pages of 16 KiB.
func writeSmallPages(t *testing.T, path string, rs []parquetRow) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := parquet.NewGenericWriter[parquetRow](f, parquet.Compression(&parquet.Zstd), parquet.MaxRowsPerRowGroup(20000), parquet.PageBufferSize(16<<10))
	if _, err := w.Write(rs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestServeParquetDiff: dx serve's /v1/diff of a Parquet table is dx diff
// --rows --format jsonl's.
func TestServeParquetDiff(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.parquet table=parquet key=id\n")
	rs := parquetRows(5000)
	writeSmallPages(t, r.path("data/t.parquet"), rs)
	r.ok("commit", "-m", "one")
	rs[1234].Region = "mars"
	writeSmallPages(t, r.path("data/t.parquet"), append(rs, parquetRows(5010)[5000:]...))
	r.ok("commit", "-m", "two")
	g := startServe(t, r.dir, "--repo", "data="+r.dir, "--anonymous")
	resp, err := http.Get(g.endpoint() + "/v1/diff/main~1/main/data")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := r.ok("diff", "--rows", "--format", "jsonl", "main~1", "main", "--", "data")
	if string(got) != want || strings.Count(want, "\n") != 11 || !strings.Contains(want, `"region":"mars"`) {
		t.Fatalf("/v1/diff: %q\ndx diff --rows: %q", got, want)
	}
}
