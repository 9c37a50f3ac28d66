package e2e

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// csvTableText writes rows (id → record) in the given id order.
func csvTableText(header []string, order []string, rows map[string][]string) string {
	var b strings.Builder
	b.WriteString(csvLine(header))
	for _, id := range order {
		b.WriteString(csvLine(rows[id]))
	}
	return b.String()
}

func readCSVRows(t *testing.T, path string) ([]string, map[string][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, r := range recs[1:] {
		if _, dup := out[r[0]]; dup {
			t.Fatalf("duplicate key %s in the merged table", r[0])
		}
		out[r[0]] = r
	}
	return recs[0], out
}

// tableEdits applies random disjoint edits: keys from pool are updated or
// deleted, new keys (prefix) inserted at random places.
func tableEdits(r *rand.Rand, order []string, rows map[string][]string, pool []string, prefix string, n int) ([]string, map[string][]string) {
	out := maps.Clone(rows)
	ord := slices.Clone(order)
	for i := 0; i < n; i++ {
		switch r.IntN(3) {
		case 0:
			id := fmt.Sprintf("%s%d", prefix, i)
			out[id] = []string{id, "inserted " + prefix, fmt.Sprint(r.IntN(1000)), "new, \"quoted\"\nrow"}
			at := r.IntN(len(ord) + 1)
			ord = slices.Insert(ord, at, id)
		case 1:
			id := pool[i]
			rec := slices.Clone(out[id])
			rec[2] = fmt.Sprintf("%d.99", r.IntN(1000))
			out[id] = rec
		default:
			id := pool[i]
			delete(out, id)
			ord = slices.DeleteFunc(ord, func(s string) bool { return s == id })
		}
	}
	return ord, out
}

// TestMergeBranches: two branches make random disjoint edits to a keyed
// table (and one renames a file the other edits); the merge equals both
// change sets applied, row for row; it is a commit with two parents.
func TestMergeBranches(t *testing.T) {
	// settled: the table was written long enough ago for its stat cache
	// entry to be trusted, so the merged table is written ahead, from the
	// worktree file, while the merge stores it. Else its mtime is in the
	// future, which no entry is trusted with: it is written after the
	// commit, from the store.
	for _, settled := range []bool{false, true} {
		t.Run(fmt.Sprintf("settled=%v", settled), func(t *testing.T) { testMergeBranches(t, settled) })
	}
}

func testMergeBranches(t *testing.T, settled bool) {
	r := newRepo(t)
	text, rows := genCSV(3, 20000)
	header := []string{"id", "name", "amount", "note"}
	var order []string
	for i := 0; i < 20000; i++ {
		order = append(order, fmt.Sprint(i))
	}
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("t.csv", text)
	r.write("docs/r.txt", "rename me\n")
	r.write("keep.txt", "same\n")
	r.ok("commit", "-m", "base")
	r.ok("branch", "feature")

	rnd := rand.New(rand.NewPCG(4, 4))
	perm := rnd.Perm(20000)
	var poolO, poolT []string
	for i, p := range perm[:400] {
		if i%2 == 0 {
			poolO = append(poolO, fmt.Sprint(p))
		} else {
			poolT = append(poolT, fmt.Sprint(p))
		}
	}
	ordO, rowsO := tableEdits(rnd, order, rows, poolO, "o", 150)
	ordT, rowsT := tableEdits(rnd, order, rows, poolT, "t", 150)

	// main: its edits, and the text file renamed.
	r.write("t.csv", csvTableText(header, ordO, rowsO))
	if err := os.Rename(r.path("docs/r.txt"), r.path("docs/r2.txt")); err != nil {
		t.Fatal(err)
	}
	r.ok("commit", "-m", "ours")
	// feature: its edits, and the text file edited.
	r.ok("checkout", "feature")
	r.write("t.csv", csvTableText(header, ordT, rowsT))
	r.write("docs/r.txt", "rename me\nedited on feature\n")
	r.ok("commit", "-m", "theirs")
	r.ok("checkout", "main")
	when := time.Now().Add(-time.Hour)
	if !settled {
		when = time.Now().Add(time.Hour)
	}
	if err := os.Chtimes(r.path("t.csv"), when, when); err != nil {
		t.Fatal(err)
	}
	r.ok("status") // records the file's entry

	var res struct {
		FastForward bool `json:"fast_forward"`
		Commit      string
		Tables      []struct{ Path string }
		Conflicts   []any
	}
	if err := json.Unmarshal([]byte(r.ok("merge", "--json", "feature")), &res); err != nil {
		t.Fatal(err)
	}
	if res.FastForward || len(res.Conflicts) != 0 || len(res.Tables) != 1 {
		t.Fatalf("merge result %+v", res)
	}
	// Expected: base with both change sets.
	want := maps.Clone(rows)
	for _, side := range []map[string][]string{rowsO, rowsT} {
		for id := range rows {
			if _, ok := side[id]; !ok {
				delete(want, id)
			}
		}
		for id, rec := range side {
			if old, ok := rows[id]; !ok || !slices.Equal(old, rec) {
				want[id] = rec
			}
		}
	}
	gotHeader, got := readCSVRows(t, r.path("t.csv"))
	if !slices.Equal(gotHeader, header) {
		t.Fatalf("header %q", gotHeader)
	}
	if len(got) != len(want) {
		t.Fatalf("merged table has %d rows, want %d", len(got), len(want))
	}
	for id, rec := range want {
		if !slices.Equal(got[id], rec) {
			t.Fatalf("row %s: got %q, want %q", id, got[id], rec)
		}
	}
	if b, err := os.ReadFile(r.path("docs/r2.txt")); err != nil || string(b) != "rename me\nedited on feature\n" {
		t.Fatalf("renamed file: %q %v", b, err)
	}
	if _, err := os.Stat(r.path("docs/r.txt")); !os.IsNotExist(err) {
		t.Fatalf("old name still there: %v", err)
	}
	if st := r.ok("status", "--short"); st != "" {
		t.Fatalf("worktree not clean after the merge: %q", st)
	}
	// The merged table is chunked as a commit of its bytes would be: with
	// the stat cache defeated, hashing the file gives the same File.
	later := time.Now().Add(2 * time.Second)
	if err := os.Chtimes(r.path("t.csv"), later, later); err != nil {
		t.Fatal(err)
	}
	if st := r.ok("status", "--short"); st != "" {
		t.Fatalf("the merged table hashes differently from its commit: %q", st)
	}
	var show struct{ Parents []string }
	if err := json.Unmarshal([]byte(r.ok("show", "--json", "HEAD")), &show); err != nil {
		t.Fatal(err)
	}
	if len(show.Parents) != 2 {
		t.Fatalf("merge commit parents: %v", show.Parents)
	}
	r.ok("fsck")
	if es, err := os.ReadDir(r.dir); err != nil || len(es) != 5 { // .dx, .dxattributes, t.csv, docs, keep.txt
		t.Fatalf("worktree after the merge: %v %v", es, err)
	}
	// A checkout of the merge commit elsewhere gives the same table.
	if got := r.ok("merge", "feature"); !strings.Contains(got, "Already up to date") {
		t.Fatalf("second merge: %q", got)
	}
	// feature fast-forwards to main.
	r.ok("checkout", "feature")
	if got := r.ok("merge", "main"); !strings.Contains(got, "Fast-forward") {
		t.Fatalf("fast-forward: %q", got)
	}
	_, ff := readCSVRows(t, r.path("t.csv"))
	if len(ff) != len(want) {
		t.Fatalf("fast-forwarded table: %d rows", len(ff))
	}
}

// TestMergeConflicts: conflicting edits stop the merge with a clear list;
// --abort restores the worktree exactly; --ours/--theirs and --continue
// finish it.
func TestMergeConflicts(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.csv table=csv key=id\n*.jsonl table=jsonl key=id\n")
	r.write("t.csv", "id,name,amount\n1,a,10\n2,b,20\n3,c,30\n")
	r.write("e.jsonl", "{\"id\":1,\"v\":{\"x\":1}}\n{\"id\":2,\"v\":[1,2]}\n")
	r.write("notes.txt", "base\n")
	r.ok("commit", "-m", "base")
	r.ok("branch", "feature")
	r.write("t.csv", "id,name,amount\n1,a,11\n2,OURS,20\n3,c,30\n")
	r.write("e.jsonl", "{\"id\":1,\"v\":{\"x\":2}}\n{\"id\":2,\"v\":[1,2]}\n")
	r.write("notes.txt", "ours\n")
	r.ok("commit", "-m", "ours")
	r.ok("checkout", "feature")
	r.write("t.csv", "id,name,amount\n1,a,10\n2,THEIRS,20\n3,c,33\n")
	r.write("e.jsonl", "{\"v\":{\"x\":1},\"id\":1}\n{\"id\":2,\"v\":[1,2,3]}\n{\"id\":3,\"v\":null}\n")
	r.write("notes.txt", "theirs\n")
	r.write("theirs-only.txt", "new\n")
	r.ok("commit", "-m", "theirs")
	r.ok("checkout", "main")
	before := manifest(t, r.dir)

	res := r.run("merge", "feature")
	if res.code == 0 {
		t.Fatalf("conflicting merge succeeded: %s", res.stdout)
	}
	for _, want := range []string{"content:", "notes.txt", "rows:", "t.csv (1 keys: 2)", "report: t.csv.conflicts.csv"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("merge output lacks %q:\n%s", want, res.stdout)
		}
	}
	if lines := strings.Split(strings.TrimSpace(res.stderr), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "merge --continue") {
		t.Errorf("stderr: %q", res.stderr)
	}
	// What merged is in the worktree: theirs' row 3 and JSONL rows.
	_, rows := readCSVRows(t, r.path("t.csv"))
	if rows["3"][2] != "33" || rows["1"][2] != "11" || rows["2"][1] != "OURS" {
		t.Errorf("merged table %v", rows)
	}
	rep, err := os.ReadFile(r.path("t.csv.conflicts.csv"))
	if err != nil || !strings.Contains(string(rep), "2,theirs,2,THEIRS,20") || !strings.Contains(string(rep), "2,base,2,b,20") {
		t.Errorf("conflict report: %q %v", rep, err)
	}
	if b, _ := os.ReadFile(r.path("e.jsonl")); !strings.Contains(string(b), `{"id":3,"v":null}`) || !strings.Contains(string(b), `"x":2`) {
		t.Errorf("merged jsonl: %s", b)
	}
	if st := r.ok("status"); !strings.Contains(st, "Merging feature") || !strings.Contains(st, "notes.txt") {
		t.Errorf("status: %s", st)
	}
	r.fails("a merge is in progress", "commit", "-m", "no")
	r.fails("a merge is in progress", "merge", "feature")

	// Abort: the worktree is exactly as before.
	r.ok("merge", "--abort")
	if d := diffManifests(before, manifest(t, r.dir)); len(d) != 0 {
		t.Fatalf("abort did not restore the worktree: %v", d)
	}
	r.fails("no merge in progress", "merge", "--abort")

	// Again, and resolve.
	if res := r.run("merge", "feature"); res.code == 0 {
		t.Fatal("second attempt merged")
	}
	r.ok("checkout", "--theirs", "notes.txt")
	r.write("t.csv", "id,name,amount\n1,a,11\n2,RESOLVED,20\n3,c,33\n")
	r.ok("merge", "--continue")
	if _, err := os.Stat(r.path("t.csv.conflicts.csv")); !os.IsNotExist(err) {
		t.Errorf("conflict report left behind: %v", err)
	}
	if b, _ := os.ReadFile(r.path("notes.txt")); string(b) != "theirs\n" {
		t.Errorf("notes.txt: %q", b)
	}
	if st := r.ok("status", "--short"); st != "" {
		t.Errorf("status after --continue: %q", st)
	}
	var show struct{ Parents []string }
	if err := json.Unmarshal([]byte(r.ok("show", "--json", "HEAD")), &show); err != nil || len(show.Parents) != 2 {
		t.Fatalf("merge commit: %v %v", show.Parents, err)
	}
	r.ok("fsck")
}

// TestMergeBadInput: a malformed row on one side stops the merge with one
// line naming the file and line; nothing is written.
func TestMergeBadInput(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("t.csv", "id,v\n1,a\n2,b\n")
	r.ok("commit", "-m", "base")
	r.ok("branch", "feature")
	r.write("t.csv", "id,v\n1,A\n2,b\n")
	r.ok("commit", "-m", "ours")
	r.ok("checkout", "feature")
	r.write("t.csv", "id,v\n1,a\n2,b\n3,c,extra\n")
	r.ok("commit", "-m", "theirs: bad row")
	r.ok("checkout", "main")
	before := manifest(t, r.dir)
	head := r.ok("log", "--oneline", "-n", "1")
	r.fails("t.csv: theirs: new version: line 4: wrong number of fields", "merge", "feature")
	if d := diffManifests(before, manifest(t, r.dir)); len(d) != 0 {
		t.Fatalf("a failed merge changed the worktree: %v", d)
	}
	if got := r.ok("log", "--oneline", "-n", "1"); got != head {
		t.Fatalf("HEAD moved: %q", got)
	}
	r.fails("merge", "merge") // unknown revision
	r.write("dirty.txt", "x\n")
	r.fails("commit your changes first", "merge", "feature")
	os.Remove(r.path("dirty.txt"))
	keys := []string{}
	_, rows := readCSVRows(t, r.path("t.csv"))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if strings.Join(keys, ",") != "1,2" {
		t.Fatalf("table changed: %v", keys)
	}
}
