package e2e

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
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

// mergeCase is a keyed CSV table (id, name, amount, note) and two sides'
// random disjoint edits to it.
type mergeCase struct {
	header       []string
	text         string
	rows         map[string][]string
	ordO, ordT   []string
	rowsO, rowsT map[string][]string
}

// newMergeCase generates n rows, then edits on each side: updates and
// deletes of its half of pool random keys, and inserts.
func newMergeCase(genSeed, editSeed uint64, n, pool, edits int) *mergeCase {
	mc := &mergeCase{header: []string{"id", "name", "amount", "note"}}
	mc.text, mc.rows = genCSV(genSeed, n)
	var order []string
	for i := 0; i < n; i++ {
		order = append(order, fmt.Sprint(i))
	}
	rnd := rand.New(rand.NewPCG(editSeed, editSeed))
	var poolO, poolT []string
	for i, p := range rnd.Perm(n)[:pool] {
		if i%2 == 0 {
			poolO = append(poolO, fmt.Sprint(p))
		} else {
			poolT = append(poolT, fmt.Sprint(p))
		}
	}
	mc.ordO, mc.rowsO = tableEdits(rnd, order, mc.rows, poolO, "o", edits)
	mc.ordT, mc.rowsT = tableEdits(rnd, order, mc.rows, poolT, "t", edits)
	return mc
}

// want is the table with both sides' edits.
func (mc *mergeCase) want() map[string][]string {
	want := maps.Clone(mc.rows)
	for _, side := range []map[string][]string{mc.rowsO, mc.rowsT} {
		for id := range mc.rows {
			if _, ok := side[id]; !ok {
				delete(want, id)
			}
		}
		for id, rec := range side {
			if old, ok := mc.rows[id]; !ok || !slices.Equal(old, rec) {
				want[id] = rec
			}
		}
	}
	return want
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
	mc := newMergeCase(3, 4, 20000, 400, 150)
	header := mc.header
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("t.csv", mc.text)
	r.write("docs/r.txt", "rename me\n")
	r.write("keep.txt", "same\n")
	r.ok("commit", "-m", "base")
	r.ok("branch", "feature")

	// main: its edits, and the text file renamed.
	r.write("t.csv", csvTableText(header, mc.ordO, mc.rowsO))
	if err := os.Rename(r.path("docs/r.txt"), r.path("docs/r2.txt")); err != nil {
		t.Fatal(err)
	}
	r.ok("commit", "-m", "ours")
	// feature: its edits, and the text file edited.
	r.ok("checkout", "feature")
	r.write("t.csv", csvTableText(header, mc.ordT, mc.rowsT))
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
	want := mc.want()
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
	if res.code != exitConflicts {
		t.Fatalf("conflicting merge: exit %d, want %d: %s", res.code, exitConflicts, res.stdout)
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
	if res := r.fails("unresolved conflicts in t.csv", "merge", "--continue"); res.code != exitConflicts {
		t.Fatalf("--continue with t.csv unresolved: exit %d, want %d", res.code, exitConflicts)
	}
	r.ok("merge", "--resolved", "t.csv")
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
	r.fails("t.csv:4: wrong number of fields", "commit", "-m", "theirs: bad row")
	r.ok("commit", "--no-verify", "-m", "theirs: bad row")
	r.ok("checkout", "main")
	before := manifest(t, r.dir)
	head := r.ok("log", "--oneline", "-n", "1")
	// Theirs is not a table: the merge takes t.csv as a file changed on
	// both sides, a conflict, and says why.
	res := r.run("merge", "feature")
	if res.code == 0 || !strings.Contains(res.stderr, "t.csv: merged as a file, not by rows: theirs: new version: line 4: wrong number of fields") {
		t.Fatalf("merge: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	r.ok("merge", "--abort")
	if d := diffManifests(before, manifest(t, r.dir)); len(d) != 0 {
		t.Fatalf("an aborted merge changed the worktree: %v", d)
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

// TestMergeInto: dx merge --into BRANCH merges into a branch that is not
// checked out, in the store alone: the result is the tree a merge in the
// worktree makes, the worktree (with its uncommitted changes) and HEAD
// are untouched, and a conflict writes nothing.
func TestMergeInto(t *testing.T) {
	r := newRepo(t)
	mc := newMergeCase(5, 5, 5000, 200, 60)
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("t.csv", mc.text)
	r.write("notes.txt", "base\n")
	r.ok("commit", "-m", "base")
	r.ok("branch", "feature")
	r.ok("branch", "work")
	r.write("t.csv", csvTableText(mc.header, mc.ordO, mc.rowsO))
	r.ok("commit", "-m", "ours")
	r.ok("checkout", "feature")
	r.write("t.csv", csvTableText(mc.header, mc.ordT, mc.rowsT))
	r.write("theirs.txt", "new on feature\n")
	r.ok("commit", "-m", "theirs")
	r.ok("branch", "main2", "main") // for the same merge in a worktree
	// Work elsewhere, with uncommitted changes.
	r.ok("checkout", "work")
	r.write("notes.txt", "uncommitted\n")
	before := manifest(t, r.dir)
	headLog := r.ok("log", "--oneline")

	var res struct {
		FastForward bool `json:"fast_forward"`
		Commit      string
		Tables      []struct {
			Path           string
			Added, Changed int
			Removed        int
			Conflicts      int
		}
		Conflicts []any
	}
	if err := json.Unmarshal([]byte(r.ok("merge", "--json", "--into", "main", "feature")), &res); err != nil {
		t.Fatal(err)
	}
	if res.FastForward || len(res.Conflicts) != 0 || len(res.Tables) != 1 || res.Tables[0].Path != "t.csv" {
		t.Fatalf("merge result %+v", res)
	}
	if d := diffManifests(before, manifest(t, r.dir)); len(d) != 0 {
		t.Fatalf("merge --into touched the worktree: %v", d)
	}
	if got := r.ok("log", "--oneline"); got != headLog {
		t.Fatalf("HEAD moved:\n%s", got)
	}
	if st := r.ok("status", "--short"); !strings.Contains(st, "notes.txt") || strings.Contains(st, "Merging") {
		t.Fatalf("status: %q", st)
	}
	var show struct {
		ID      string
		Parents []string
		Message string
	}
	if err := json.Unmarshal([]byte(r.ok("show", "--json", "main")), &show); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(show.ID, res.Commit) && !strings.HasPrefix(res.Commit, show.ID) || len(show.Parents) != 2 || show.Message != "Merge feature into main" {
		t.Fatalf("main after the merge: %+v (merge said %s)", show, res.Commit)
	}
	// The merged table: both change sets, row for row.
	want := mc.want()
	out := filepath.Join(t.TempDir(), "merged.csv")
	if err := os.WriteFile(out, []byte(r.ok("cat", "main:t.csv")), 0o644); err != nil {
		t.Fatal(err)
	}
	_, got := readCSVRows(t, out)
	if len(got) != len(want) {
		t.Fatalf("merged table has %d rows, want %d", len(got), len(want))
	}
	for id, rec := range want {
		if !slices.Equal(got[id], rec) {
			t.Fatalf("row %s: got %q, want %q", id, got[id], rec)
		}
	}
	if got := r.ok("cat", "main:theirs.txt"); got != "new on feature\n" {
		t.Fatalf("theirs.txt on main: %q", got)
	}
	// The same merge in a worktree makes the same tree, File for File.
	r.ok("checkout", "--force", "main2")
	r.ok("merge", "feature")
	if d := r.ok("diff", "--json", "main", "main2"); strings.Contains(d, "path") {
		t.Fatalf("merge --into and merge differ: %s", d)
	}
	r.ok("fsck")

	// Again: up to date; the other way: a fast-forward.
	if got := r.ok("merge", "--into", "main", "feature"); !strings.Contains(got, "Already up to date") {
		t.Fatalf("second merge: %q", got)
	}
	r.ok("checkout", "work")
	if got := r.ok("merge", "--into", "feature", "main"); !strings.Contains(got, "Fast-forward feature to") {
		t.Fatalf("fast-forward: %q", got)
	}
	if a, b := r.ok("log", "--oneline", "-n", "1", "feature"), r.ok("log", "--oneline", "-n", "1", "main"); a != b {
		t.Fatalf("feature %q, main %q", a, b)
	}

	// Refused: the branch checked out, a branch that does not exist.
	r.fails("work is checked out here; run dx merge main", "merge", "--into", "work", "main")
	r.fails("no such branch", "merge", "--into", "nope", "main")
	r.fails("--into merges in one step", "merge", "--into", "main", "--abort")

	// A conflict: listed, nothing written, no merge in progress.
	r.ok("branch", "c1", "main")
	r.ok("branch", "c2", "main")
	r.ok("checkout", "--force", "c1")
	r.write("notes.txt", "c1\n")
	r.ok("commit", "-m", "c1")
	r.ok("checkout", "c2")
	r.write("notes.txt", "c2\n")
	r.ok("commit", "-m", "c2")
	r.ok("checkout", "work")
	c1 := r.ok("log", "--oneline", "-n", "1", "c1")
	before = manifest(t, r.dir)
	cres := r.run("merge", "--into", "c1", "c2")
	checkFailure(t, cres, "merge --into c1: conflicts in 1 paths; nothing was written", []string{"merge", "--into", "c1", "c2"})
	if !strings.Contains(cres.stdout, "notes.txt") || !strings.Contains(cres.stdout, "Conflicts on c1") {
		t.Fatalf("conflict listing: %q", cres.stdout)
	}
	if got := r.ok("log", "--oneline", "-n", "1", "c1"); got != c1 {
		t.Fatalf("c1 moved: %q", got)
	}
	if d := diffManifests(before, manifest(t, r.dir)); len(d) != 0 {
		t.Fatalf("a conflicting merge --into touched the worktree: %v", d)
	}
	if st := r.ok("status"); strings.Contains(st, "Merging") {
		t.Fatalf("status after a conflicting merge --into: %s", st)
	}
	r.ok("merge", "--into", "c1", "main") // nothing in progress blocks the next one
	r.ok("fsck")
}
