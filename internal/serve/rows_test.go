package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dxdata/dx/internal/repo"
)

// TestRowByKey looks up keys, against the rows written, in a CSV keyed by
// an int in random order, with rows longer than the chunker's maximum
// chunk (so cut inside rows) and quoted line ends, and in a JSONL keyed
// by two fields in key order, where a lookup reads two chunks.
func TestRowByKey(t *testing.T) {
	dir, write := newTablesRepo(t)
	rng := rand.New(rand.NewPCG(12, 12))
	write(".dxattributes", "*.csv table=csv key=id\n*.jsonl table=jsonl key=region,n\n")
	csvRows := map[string]string{}
	var b strings.Builder
	b.WriteString("id,note\n")
	for _, i := range rng.Perm(20000) {
		note := fmt.Sprintf("n%d", rng.IntN(1e9))
		if i%2000 == 7 { // a row longer than any chunk
			note = strings.Repeat("x", 300<<10)
		}
		if i%1000 == 3 {
			note = fmt.Sprintf("\"multi\nline %d\"", i)
		}
		csvRows[fmt.Sprint(i)] = note
		fmt.Fprintf(&b, "%d,%s\n", i, note)
	}
	write("t.csv", b.String())
	// Sorted, with rows longer than a chunk: those are cut inside.
	sortedRows := map[string]string{}
	b.Reset()
	b.WriteString("id,note\n")
	for i := range 20000 {
		note := fmt.Sprintf("s%d", i)
		if i%2000 == 1000 {
			note = strings.Repeat(fmt.Sprint(i%10), 300<<10)
		}
		sortedRows[fmt.Sprint(i)] = note
		fmt.Fprintf(&b, "%d,%s\n", i, note)
	}
	write("s.csv", b.String())
	// JSONL sorted by its key: each chunk's key range is narrow.
	jsonRows := map[string]string{}
	b.Reset()
	for _, region := range []string{"east", "north", "south"} {
		for i := range 10000 {
			n := fmt.Sprintf("%05d", i)
			line := fmt.Sprintf(`{"region":%q,"n":%q,"v":"%s"}`, region, n, strings.Repeat("y", rng.IntN(40)))
			jsonRows[region+"\x1f"+n] = line
			b.WriteString(line + "\n")
		}
	}
	write("e.jsonl", b.String())
	commitTables(t, dir)
	_, hs := serveTest(t, &testRepo{dir: dir}, Options{Anonymous: true})

	type answer struct {
		Row        map[string]json.RawMessage
		Chunks     int `json:"chunks"`
		ChunksRead int `json:"chunks_read"`
	}
	lookup := func(p string, key ...string) (int, answer) {
		q := url.Values{"key": key}
		code, _, body := get(t, hs.URL+"/v1/rows/main/"+p+"?"+q.Encode(), nil)
		var a answer
		if code == 200 {
			if err := json.Unmarshal(body, &a); err != nil {
				t.Fatal(err)
			}
		}
		return code, a
	}
	// In random order every chunk's key range is wide: most are read.
	// The rows longer than a chunk are found too.
	var read, chunks int
	for k := range 150 {
		id := fmt.Sprint(rng.IntN(20000))
		if k < 10 {
			id = fmt.Sprint(k*2000 + 7)
		}
		code, a := lookup("t.csv", id)
		var note string
		if code == 200 {
			_ = json.Unmarshal(a.Row["note"], &note)
		}
		want := strings.Trim(strings.ReplaceAll(csvRows[id], `""`, `"`), `"`)
		if code != 200 || note != want {
			t.Fatalf("t.csv key %s: %d, note %.40q, want %.40q", id, code, note, want)
		}
		read, chunks = read+a.ChunksRead, a.Chunks
	}
	t.Logf("t.csv: %d chunks; 150 lookups read %d", chunks, read)
	// Around the long rows of the sorted table.
	read = 0
	for k := range 10 {
		for _, d := range []int{-1, 0, 1} {
			id := fmt.Sprint(k*2000 + 1000 + d)
			code, a := lookup("s.csv", id)
			var note string
			if code == 200 {
				_ = json.Unmarshal(a.Row["note"], &note)
			}
			if code != 200 || note != sortedRows[id] {
				t.Fatalf("s.csv key %s: %d, note %.40q, want %.40q", id, code, note, sortedRows[id])
			}
			read, chunks = read+a.ChunksRead, a.Chunks
		}
	}
	t.Logf("s.csv: %d chunks; 30 lookups around long rows read %d", chunks, read)
	read = 0
	for range 150 {
		region, n := []string{"east", "north", "south"}[rng.IntN(3)], fmt.Sprintf("%05d", rng.IntN(10000))
		code, a := lookup("e.jsonl", region, n)
		got, _ := json.Marshal(a.Row)
		var wantRow map[string]json.RawMessage
		_ = json.Unmarshal([]byte(jsonRows[region+"\x1f"+n]), &wantRow)
		want, _ := json.Marshal(wantRow)
		if code != 200 || string(got) != string(want) {
			t.Fatalf("e.jsonl key %s,%s: %d %s, want %s", region, n, code, got, want)
		}
		// The first chunk (the header's) and the one the key's row starts in.
		if a.ChunksRead > 2 || a.Chunks < 10 {
			t.Errorf("e.jsonl key %s,%s: read %d of %d chunks", region, n, a.ChunksRead, a.Chunks)
		}
		read, chunks = read+a.ChunksRead, a.Chunks
	}
	t.Logf("e.jsonl: %d chunks; 150 lookups read %d", chunks, read)
	for _, c := range []struct {
		p   string
		key []string
	}{{"t.csv", []string{"20000"}}, {"t.csv", []string{"abc"}}, {"e.jsonl", []string{"west", "00001"}}, {"e.jsonl", []string{"north", "1"}}} {
		if code, _ := lookup(c.p, c.key...); code != 404 {
			t.Errorf("%s key %v (absent): %d", c.p, c.key, code)
		}
	}
	if code, _ := lookup("e.jsonl", "north"); code != 400 {
		t.Errorf("one key of two: %d", code)
	}
}

// newTablesRepo makes a repository to commit tables in, and a function
// that writes a file in its worktree.
func newTablesRepo(t *testing.T) (dir string, write func(name, data string)) {
	dir = t.TempDir()
	if _, err := repo.Init(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	return dir, func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// commitTables commits the worktree of dir.
func commitTables(t *testing.T, dir string) {
	t.Helper()
	r, err := repo.Open(context.Background(), dir, repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Commit(context.Background(), repo.CommitOptions{Message: "tables"}); err != nil {
		t.Fatal(err)
	}
}
