package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// profileJSON is what dx profile --json prints, in part.
type profileJSON struct {
	Chunks   int `json:"chunks"`
	Computed int `json:"chunks_computed"`
	Reused   int `json:"chunks_reused"`
	// The reads of the stored profiles' files, and the bytes they gave.
	CacheReads int64 `json:"cache_reads"`
	CacheBytes int64 `json:"cache_bytes_read"`
	// Derived from an earlier version's profile: its File id, and the
	// rows taken out and put in.
	From      string `json:"derived_from"`
	RowsOut   int64  `json:"rows_out"`
	RowsIn    int64  `json:"rows_in"`
	BytesRead int64  `json:"bytes_read"`
	Rows      int64  `json:"rows"`
	Columns   []struct {
		Name          string
		Type          string
		Count, Nulls  int64
		Distinct      int64
		DistinctExact bool `json:"distinct_exact"`
		Min, Max      string
		Mean          *float64
		Top           []struct {
			Value string
			Count int64
		}
		TopExact bool `json:"top_exact"`
	}
}

func (r *repoDir) profile(spec string) profileJSON {
	r.t.Helper()
	var p profileJSON
	if out := r.ok("profile", spec, "--json"); json.Unmarshal([]byte(out), &p) != nil {
		r.t.Fatalf("profile --json: %s", out)
	}
	return p
}

// measureRows are rows of a table: id, a category of 6 values (some
// empty), an amount, a score.
type measureRow struct {
	id     int
	cat    string
	amount float64
	score  int
}

func measureTable(rows []measureRow) string {
	var b strings.Builder
	b.WriteString("id,cat,amount,score\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%d,%s,%.2f,%d\n", r.id, r.cat, r.amount, r.score)
	}
	return b.String()
}

func measureRows(rng *rand.Rand, from, n int) []measureRow {
	cats := []string{"a", "b", "c", "d", "e", ""}
	out := make([]measureRow, n)
	for i := range out {
		out[i] = measureRow{from + i, cats[rng.IntN(len(cats))], 100 + 10*rng.NormFloat64(), rng.IntN(50)}
	}
	return out
}

// checkMeasureProfile checks a profile's exact figures against rows.
func checkMeasureProfile(t *testing.T, p profileJSON, rows []measureRow) {
	t.Helper()
	cats := map[string]int64{}
	var nulls, scoreSum int64
	for _, r := range rows {
		if r.cat == "" {
			nulls++
		} else {
			cats[r.cat]++
		}
		scoreSum += int64(r.score)
	}
	if p.Rows != int64(len(rows)) || len(p.Columns) != 4 {
		t.Fatalf("rows %d columns %d, want %d and 4", p.Rows, len(p.Columns), len(rows))
	}
	cat, score, id := p.Columns[1], p.Columns[3], p.Columns[0]
	if cat.Type != "string" || cat.Nulls != nulls || cat.Count != int64(len(rows))-nulls || !cat.TopExact || !cat.DistinctExact || cat.Distinct != int64(len(cats)) {
		t.Fatalf("cat: %+v", cat)
	}
	for _, vc := range cat.Top {
		if cats[vc.Value] != vc.Count {
			t.Fatalf("cat %s: %d, want %d", vc.Value, vc.Count, cats[vc.Value])
		}
	}
	if want := float64(scoreSum) / float64(len(rows)); score.Type != "int" || score.Mean == nil || *score.Mean != want {
		t.Fatalf("score: %+v, want mean %v", score, want)
	}
	if id.Min != fmt.Sprint(rows[0].id) || id.Max != fmt.Sprint(rows[len(rows)-1].id) {
		t.Fatalf("id: min %s max %s", id.Min, id.Max)
	}
}

// measureRepo is a repository whose HEAD has a table m.csv of n random
// measureRows.
func measureRepo(t *testing.T, seed uint64, n int) (*repoDir, *rand.Rand, []measureRow) {
	r := newRepo(t)
	rng := rand.New(rand.NewPCG(19, seed))
	rows := measureRows(rng, 1, n)
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("m.csv", measureTable(rows))
	r.ok("commit", "-m", "v1")
	return r, rng, rows
}

// TestProfileReusesChunks: dx profile of a table computes every chunk
// once; a version with a few rows changed and some appended computes
// only the chunks that changed, and both have the exact figures.
func TestProfileReusesChunks(t *testing.T) {
	r, rng, rows := measureRepo(t, 2, 60000)
	p1 := r.profile("HEAD:m.csv")
	if p1.Chunks < 10 || p1.Computed != p1.Chunks || p1.Reused != 0 {
		t.Fatalf("first profile: %d chunks, %d computed, %d reused", p1.Chunks, p1.Computed, p1.Reused)
	}
	checkMeasureProfile(t, p1, rows)
	if again := r.profile("HEAD:m.csv"); again.Computed != 0 || again.Reused != p1.Chunks {
		t.Fatalf("second profile computed %d chunks", again.Computed)
	}

	for _, i := range []int{100, 30000, 45000} {
		rows[i].cat, rows[i].score = "zz", 49
	}
	rows = append(rows, measureRows(rng, 60001, 500)...)
	r.write("m.csv", measureTable(rows))
	r.ok("commit", "-m", "v2")
	p2 := r.profile("HEAD:m.csv")
	if p2.Computed == 0 || p2.Computed > p2.Chunks/3 || p2.Reused+p2.Computed != p2.Chunks {
		t.Fatalf("v2: %d chunks, %d computed, %d reused: want only the changed ones", p2.Chunks, p2.Computed, p2.Reused)
	}
	t.Logf("v2: %d chunks, %d computed", p2.Chunks, p2.Computed)
	checkMeasureProfile(t, p2, rows)
	// The old version still profiles from the index alone.
	if old := r.profile("HEAD~1:m.csv"); old.Computed != 0 || old.Rows != 60000 {
		t.Fatalf("v1 again: %+v", old)
	}
	if text := r.ok("profile", "HEAD:m.csv"); !strings.Contains(text, "60500 rows, 4 columns") || !strings.Contains(text, "cat: top ") {
		t.Fatalf("dx profile:\n%s", text)
	}
}

// TestProfileCacheReads: a table's chunk profiles are kept in files of
// their own under .dx/derived, not in the index's value log (whose files
// every command opens). A version with scattered edits is derived from
// the version before it: its profile is read, once, and only the
// changed chunks (both versions') are. (Reading the unchanged chunks'
// profiles, where no earlier version's profile is stored, is
// TestScatteredEditWorkBounded's.)
func TestProfileCacheReads(t *testing.T) {
	r, rng, rows := measureRepo(t, 3, 400000)
	p1 := r.profile("HEAD:m.csv")
	if p1.Chunks < 150 || p1.Computed != p1.Chunks || p1.CacheBytes != 0 {
		t.Fatalf("first profile: %+v", p1)
	}
	files, _ := filepath.Glob(r.path(".dx/derived/*/*"))
	if len(files) != 1 {
		t.Fatalf("profile files %v, want one", files)
	}
	v1Bytes := fileSize(t, files[0])
	vlog := int64(0)
	logs, _ := filepath.Glob(r.path(".dx/index/*.vlog"))
	for _, f := range logs {
		vlog += fileSize(t, f)
	}
	if vlog > v1Bytes/10 {
		t.Fatalf("the index's value log holds %d bytes after profiles of %d bytes", vlog, v1Bytes)
	}

	for range 10 {
		i := rng.IntN(len(rows))
		rows[i].cat, rows[i].score = "zz", 49
	}
	r.write("m.csv", measureTable(rows))
	r.ok("commit", "-m", "v2")
	p2 := r.profile("HEAD:m.csv")
	if p2.From == "" || p2.RowsOut != 10 || p2.RowsIn != 10 || p2.Computed == 0 || p2.Computed > 12 || p2.CacheReads != 1 ||
		p2.BytesRead > 2*int64(p2.Computed)*p1.BytesRead/int64(p1.Chunks)+(64<<10) {
		t.Fatalf("v2 (10 rows changed) from v1's profile: %+v", p2)
	}
	checkMeasureProfile(t, p2, rows)

	t.Logf("v2: %d chunks, %d computed, %d bytes of profiles read in %d reads", p2.Chunks, p2.Computed, p2.CacheBytes, p2.CacheReads)
}

// driftJSON is what dx drift --json prints, in part.
type driftJSON struct {
	Breached bool
	Tables   []struct {
		Path     string
		Status   string
		Breached bool
		Columns  []struct {
			Name     string
			PSI      *float64
			KS       *float64
			Breaches []string
		}
	}
}

// TestDriftBetweenVersions: +2σ on 30% of one column's rows is flagged
// and the other columns are not; an unchanged table drifts by nothing;
// --fail exits 1 on a breach; the contract's thresholds apply; a model's
// training data is compared with HEAD.
func TestDriftBetweenVersions(t *testing.T) {
	r := newRepo(t)
	rng := rand.New(rand.NewPCG(19, 3))
	rows := measureRows(rng, 1, 20000)
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("m.csv", measureTable(rows))
	r.write("other.csv", "id,x\n1,2\n")
	r.ok("commit", "-m", "v1")
	model := filepath.Join(t.TempDir(), "model.bin")
	writeBytes(t, model, []byte("weights"))
	r.ok("model", "register", "measure", "--artifact", model, "--data", "HEAD")
	for i := range rows {
		if i%10 < 3 {
			rows[i].amount += 20
		}
	}
	r.write("m.csv", measureTable(rows))
	r.ok("commit", "-m", "shifted")

	drift := func(args ...string) driftJSON {
		t.Helper()
		var d driftJSON
		if out := r.ok(append([]string{"drift", "--json"}, args...)...); json.Unmarshal([]byte(out), &d) != nil {
			t.Fatalf("drift --json: %s", out)
		}
		return d
	}
	d := drift("HEAD~1", "HEAD", "m.csv")
	if len(d.Tables) != 1 || !d.Breached {
		t.Fatalf("drift: %+v", d)
	}
	for _, c := range d.Tables[0].Columns {
		if flagged := len(c.Breaches) > 0; flagged != (c.Name == "amount") {
			t.Errorf("%s: breaches %v", c.Name, c.Breaches)
		}
		if c.Name == "amount" && (c.KS == nil || *c.KS < 0.1 || *c.PSI < 0.2) {
			t.Errorf("amount: psi %v ks %v", c.PSI, c.KS)
		}
	}
	same := drift("HEAD", "HEAD")
	if same.Breached || len(same.Tables) != 2 || same.Tables[0].Status != "unchanged" {
		t.Fatalf("drift of a version against itself: %+v", same)
	}
	for _, c := range same.Tables[0].Columns {
		if c.PSI != nil && *c.PSI != 0 || c.KS != nil && *c.KS != 0 {
			t.Fatalf("unchanged %s drifts: psi %v ks %v", c.Name, *c.PSI, c.KS)
		}
	}
	r.ok("drift", "HEAD", "HEAD", "--fail")
	res := r.exits(exitError, "drift past a threshold: 1 column(s)", "drift", "HEAD~1", "HEAD", "--fail")
	if !strings.Contains(res.stdout, "amount") || !strings.Contains(res.stdout, "DRIFT: psi") {
		t.Fatalf("drift text:\n%s", res.stdout)
	}
	// A model's training data against HEAD: the same shift.
	if m := drift("measure@1"); !m.Breached || len(m.Tables) != 2 {
		t.Fatalf("model drift: %+v", m)
	}

	// The contract raises amount's thresholds: no breach.
	r.write("dx.contract.yaml", "tables:\n  - path: m.csv\n    columns:\n      - name: amount\n        drift: {psi: 5, ks: 0.9}\n")
	r.ok("commit", "-m", "contract")
	r.ok("drift", "HEAD~2", "HEAD", "--fail")
}

// TestProfileBadInput: a path that is not a table, no such path, no
// REV:, an empty table, a header alone, a JSONL row without a column.
func TestProfileBadInput(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.csv table=csv\n*.jsonl table=jsonl\n")
	r.write("empty.csv", "")
	r.write("header.csv", "a,b\n")
	r.write("e.jsonl", `{"a":1,"b":"x"}`+"\n"+`{"a":2}`+"\n")
	r.write("notes.txt", "hello\n")
	r.ok("commit", "-m", "edge cases")
	r.exits(exitUsage, "notes.txt: not a table (.dxattributes says which files are)", "profile", "HEAD:notes.txt")
	r.exits(exitUsage, "want REV:PATH", "profile", "empty.csv")
	r.exits(exitError, `path "nope.csv" does not exist in HEAD`, "profile", "HEAD:nope.csv")
	r.exits(exitUsage, "want two revisions, or MODEL@VERSION", "drift", "HEAD")
	r.exits(exitUsage, "nope: not a table in either version", "drift", "HEAD", "HEAD", "nope")
	if p := r.profile("HEAD:empty.csv"); p.Rows != 0 || len(p.Columns) != 0 {
		t.Fatalf("empty: %+v", p)
	}
	if p := r.profile("HEAD:header.csv"); p.Rows != 0 || len(p.Columns) != 2 || p.Columns[0].Type != "empty" {
		t.Fatalf("header only: %+v", p)
	}
	p := r.profile("HEAD:e.jsonl")
	if p.Rows != 2 || p.Columns[1].Name != "b" || p.Columns[1].Nulls != 1 || p.Columns[0].Mean == nil || *p.Columns[0].Mean != 1.5 {
		t.Fatalf("jsonl: %+v", p)
	}
	if out := r.ok("profile", "HEAD:empty.csv"); !strings.Contains(out, "0 rows, 0 columns") {
		t.Fatalf("empty: %s", out)
	}
}

// TestProfileAtCommitForDrift: a table whose contract sets drift
// thresholds is profiled by the commit that changes it (dx profile then
// computes nothing); a table without them is not.
func TestProfileAtCommitForDrift(t *testing.T) {
	r := newRepo(t)
	rng := rand.New(rand.NewPCG(19, 4))
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("dx.contract.yaml", "tables:\n  - path: watched.csv\n    columns:\n      - name: amount\n        drift: {psi: 0.3}\n")
	r.write("watched.csv", measureTable(measureRows(rng, 1, 5000)))
	r.write("plain.csv", measureTable(measureRows(rng, 1, 5000)))
	var c struct {
		Profiled int `json:"tables_profiled"`
	}
	if out := r.ok("commit", "-m", "v1", "--json"); json.Unmarshal([]byte(out), &c) != nil || c.Profiled != 1 {
		t.Fatalf("commit --json: %s", out)
	}
	if p := r.profile("HEAD:watched.csv"); p.Computed != 0 || p.Reused != p.Chunks {
		t.Fatalf("watched.csv after its commit: %d of %d chunks computed", p.Computed, p.Chunks)
	}
	if p := r.profile("HEAD:plain.csv"); p.Computed != p.Chunks {
		t.Fatalf("plain.csv was profiled at commit: %d of %d chunks computed", p.Computed, p.Chunks)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
