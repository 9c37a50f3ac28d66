package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestMergeKeyRanges: on a table sorted by its key, two branches update
// rows far apart (and two rows next to each other, one each): the merge
// takes most of theirs' changed chunks unread, by the key ranges the
// commits recorded, and the result holds both change sets, row for row.
// The chunks the merge itself wrote have ranges too: the next merge on
// top of it takes runs unread again.
func TestMergeKeyRanges(t *testing.T) {
	testMergeKeyRanges(t, newRepo(t), nil)
}

// TestMergeKeyRangesLearnt: a clone has no key ranges (they are not
// transferred); its first merge reads the chunks and records them, and the
// next takes runs unread.
func TestMergeKeyRangesLearnt(t *testing.T) {
	rs := fileRemote(t)
	testMergeKeyRanges(t, rs.repo(t), func(r *repoDir) *repoDir {
		r.ok("push", "--all")
		return rs.clone(t)
	})
}

// testMergeKeyRanges builds the branches in r; with clone set, it merges
// in the repository clone(r) returns.
func testMergeKeyRanges(t *testing.T, r *repoDir, clone func(*repoDir) *repoDir) {
	const n = 40000
	header := []string{"id", "name", "amount"}
	rows := map[string][]string{}
	var order []string
	for i := 1; i <= n; i++ {
		id := fmt.Sprint(i)
		rows[id] = []string{id, fmt.Sprintf("name %d with some text", i), fmt.Sprint(i * 7 % 1000)}
		order = append(order, id)
	}
	update := func(ids ...int) map[string][]string {
		out := map[string][]string{}
		for k, v := range rows {
			out[k] = v
		}
		for _, i := range ids {
			id := fmt.Sprint(i)
			out[id] = []string{id, rows[id][1], "updated"}
		}
		return out
	}
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("t.csv", csvTableText(header, order, rows))
	r.ok("commit", "-m", "base")
	r.ok("branch", "b")
	oursIDs := []int{1000, 9000, 17000, 25000, 33000, 20000}
	theirsIDs := []int{5000, 13000, 21000, 29000, 37000, 20001}
	r.write("t.csv", csvTableText(header, order, update(oursIDs...)))
	r.ok("commit", "-m", "ours")
	r.ok("checkout", "b")
	r.write("t.csv", csvTableText(header, order, update(theirsIDs...)))
	r.ok("commit", "-m", "theirs")
	r.ok("branch", "b2")
	r.ok("checkout", "main")
	if clone != nil {
		r = clone(r)
		for _, b := range []string{"b", "b2"} {
			r.ok("branch", b, "origin/"+b)
		}
	}

	merge := func(into, rev string) (changed, unread int) {
		t.Helper()
		var res struct {
			Tables []struct {
				Changed    int
				UnreadRuns int `json:"unread_runs"`
			}
			Conflicts []any
		}
		if err := json.Unmarshal([]byte(r.ok("merge", "--json", "--into", into, rev)), &res); err != nil {
			t.Fatal(err)
		}
		if len(res.Tables) != 1 || len(res.Conflicts) != 0 {
			t.Fatalf("merge %s into %s: %+v", rev, into, res)
		}
		return res.Tables[0].Changed, res.Tables[0].UnreadRuns
	}
	r.ok("branch", "m", "main")
	if clone != nil {
		if _, unread := merge("m", "b"); unread != 0 {
			t.Fatalf("first merge in the clone: %d runs unread, with no key ranges", unread)
		}
		r.ok("branch", "-D", "m")
		r.ok("branch", "m", "main")
	}
	changed, unread := merge("m", "b")
	if unread == 0 || changed >= len(theirsIDs) {
		t.Fatalf("merge: %d rows changed, %d runs unread; want most of the %d taken unread", changed, unread, len(theirsIDs))
	}
	check := func(rev string, ids ...int) {
		t.Helper()
		out := filepath.Join(t.TempDir(), "t.csv")
		if err := os.WriteFile(out, []byte(r.ok("cat", rev+":t.csv")), 0o644); err != nil {
			t.Fatal(err)
		}
		_, gotRows := readCSVRows(t, out)
		want := update(ids...)
		if len(gotRows) != len(want) {
			t.Fatalf("%s: %d rows, want %d", rev, len(gotRows), len(want))
		}
		for k, w := range want {
			if g := gotRows[k]; strings.Join(g, ",") != strings.Join(w, ",") {
				t.Fatalf("%s: row %s is %q, want %q", rev, k, g, w)
			}
		}
	}
	check("m", append(oursIDs, theirsIDs...)...)

	// Theirs goes on; merged again into m, whose table holds chunks the
	// first merge wrote (rows 20000 and 20001 share one). Its new changes
	// sit beside its earlier ones, in chunks whose base the first merge
	// read: a clone learns key ranges only of chunks it has read.
	r.ok("checkout", "b2")
	more := append(theirsIDs, 5003, 20003, 37003)
	r.write("t.csv", csvTableText(header, order, update(more...)))
	r.ok("commit", "-m", "theirs again")
	r.ok("checkout", "main")
	if _, unread := merge("m", "b2"); unread == 0 {
		t.Fatal("second merge: no run taken unread (the chunks the first merge wrote have no key ranges?)")
	}
	check("m", append(oursIDs, more...)...)
}

// TestMergeKeyRangesJSONL: a JSONL table sorted by its key merges taking
// runs unread too, and the result has both change sets.
func TestMergeKeyRangesJSONL(t *testing.T) {
	r := newRepo(t)
	text := func(updated ...int) string {
		var b strings.Builder
		for i := 1; i <= 40000; i++ {
			v := fmt.Sprintf("%q", fmt.Sprintf("row %d with some text", i))
			if slices.Contains(updated, i) {
				v = `"updated"`
			}
			fmt.Fprintf(&b, "{\"id\":%d,\"v\":%s,\"n\":{\"id\":\"x\"}}\n", i, v)
		}
		return b.String()
	}
	ours, theirs := []int{1000, 15000, 30000}, []int{8000, 22000, 37000}
	r.write(".dxattributes", "*.jsonl table=jsonl key=id\n")
	r.write("t.jsonl", text())
	r.ok("commit", "-m", "base")
	r.ok("branch", "b")
	r.write("t.jsonl", text(ours...))
	r.ok("commit", "-m", "ours")
	r.ok("checkout", "b")
	r.write("t.jsonl", text(theirs...))
	r.ok("commit", "-m", "theirs")
	r.ok("checkout", "main")
	r.ok("branch", "m", "main")
	var res struct {
		Tables []struct {
			UnreadRuns int `json:"unread_runs"`
		}
	}
	if err := json.Unmarshal([]byte(r.ok("merge", "--json", "--into", "m", "b")), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Tables) != 1 || res.Tables[0].UnreadRuns == 0 {
		t.Fatalf("merge: %+v; want runs taken unread", res)
	}
	if got, want := r.ok("cat", "m:t.jsonl"), text(append(ours, theirs...)...); got != want {
		t.Fatal("the merged table is not both change sets applied")
	}
}
