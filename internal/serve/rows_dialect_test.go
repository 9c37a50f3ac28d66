package serve

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// TestRowByKeyOtherDialect looks up keys in tables of another dialect (';'
// and single quotes), sorted by key: one whose quoted fields hold line
// ends, which the chunker (cutting as the default dialect reads CSV) cuts
// inside, and one whose chunks each end a row. Every row is found as
// written; where the cuts are row ends, a lookup reads a few chunks, and
// where some fall inside rows, fewer than all.
func TestRowByKeyOtherDialect(t *testing.T) {
	dir, write := newTablesRepo(t)
	write(".dxattributes", "*.csv table=csv delimiter=; quote=' key=id\n")
	const n = 40000
	notes := map[string]map[string]string{"m.csv": {}, "p.csv": {}}
	for name, rows := range notes {
		var b strings.Builder
		b.WriteString("id;note\n")
		for i := range n {
			note := fmt.Sprintf("'plain; %d'", i)
			if name == "m.csv" {
				note = fmt.Sprintf("'first line %d\nsecond; line'", i)
			}
			rows[fmt.Sprint(i)] = strings.Trim(note, "'")
			fmt.Fprintf(&b, "%d;%s\n", i, note)
		}
		write(name, b.String())
	}
	commitTables(t, dir)
	_, hs := serveTest(t, &testRepo{dir: dir}, Options{Anonymous: true})
	for name, rows := range notes {
		read, chunks := 0, 0
		for k := range 60 {
			id := fmt.Sprint(k * (n / 60))
			q := url.Values{"key": {id}}
			code, _, body := get(t, hs.URL+"/v1/rows/main/"+name+"?"+q.Encode(), nil)
			var a struct {
				Row        map[string]json.RawMessage
				Chunks     int `json:"chunks"`
				ChunksRead int `json:"chunks_read"`
			}
			var note string
			if code == 200 {
				if err := json.Unmarshal(body, &a); err != nil {
					t.Fatal(err)
				}
				_ = json.Unmarshal(a.Row["note"], &note)
			}
			if code != 200 || note != rows[id] {
				t.Fatalf("%s key %s: %d %.80s, note %q, want %q", name, id, code, body, note, rows[id])
			}
			read, chunks = read+a.ChunksRead, a.Chunks
		}
		t.Logf("%s: %d chunks; 60 lookups read %d", name, chunks, read)
		if chunks < 20 {
			t.Fatalf("%s: %d chunks, want many", name, chunks)
		}
		// Every note of m.csv holds a line end, so about half its cuts
		// fall inside rows: a lookup reads across those and cannot use
		// the key ranges of the chunks beside them.
		if name == "p.csv" && read > 60*4 || name == "m.csv" && read > 60*chunks*3/4 {
			t.Errorf("%s: 60 lookups read %d chunks of %d: cuts at row ends not trusted", name, read, chunks)
		}
	}
}
