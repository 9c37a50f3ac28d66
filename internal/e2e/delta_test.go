package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dxdata/dx/examples/catstats/stats"
)

// salesTable writes rows (id → category, amount) as CSV in id order of
// the given sequence.
func salesTable(order []int, rows map[int][2]string) string {
	var b strings.Builder
	b.WriteString("id,category,amount\n")
	for _, id := range order {
		r := rows[id]
		fmt.Fprintf(&b, "%d,%s,%s\n", id, r[0], r[1])
	}
	return b.String()
}

func trainOn(t *testing.T, csvText string) []byte {
	t.Helper()
	m, err := stats.Train(strings.NewReader(csvText), "category", "amount", 2)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := m.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestDeltaRetraining: a model updated from `dx delta` (inserts, updates
// and deletes, merged from a branch) equals the model trained from scratch
// on the new data; the delta counts are exact and it parses only part of
// the table.
func TestDeltaRetraining(t *testing.T) {
	r := newRepo(t)
	rng := rand.New(rand.NewPCG(11, 12))
	amount := func() string { return fmt.Sprintf("%d.%02d", rng.IntN(1000), rng.IntN(100)) }
	cat := func() string { return fmt.Sprintf("c%d", rng.IntN(12)) }
	rows := map[int][2]string{}
	var order []int
	for id := 0; id < 300000; id++ {
		rows[id] = [2]string{cat(), amount()}
		order = append(order, id)
	}
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	v1 := salesTable(order, rows)
	r.write("sales.csv", v1)
	r.write("notes/readme.txt", "v1\n")
	r.ok("commit", "-m", "sales v1")
	model := filepath.Join(t.TempDir(), "model.json")
	writeBytes(t, model, trainOn(t, v1))
	r.ok("model", "register", "sales", "--artifact", model, "--data", "HEAD")

	// New data arrives on a branch: 8 inserts (half in the middle), 6
	// updates (category and amount), 4 deletes, scattered.
	r.ok("branch", "incoming")
	r.ok("checkout", "incoming")
	ins, upd, del := 8, 6, 4
	touched := map[int]bool{}
	pick := func() int {
		for {
			id := rng.IntN(300000)
			if !touched[id] {
				touched[id] = true
				return id
			}
		}
	}
	for i := 0; i < upd; i++ {
		id := pick()
		rows[id] = [2]string{cat(), amount()}
	}
	dead := map[int]bool{}
	for i := 0; i < del; i++ {
		id := pick()
		dead[id] = true
		delete(rows, id)
	}
	var order2 []int
	for _, id := range order {
		if !dead[id] {
			order2 = append(order2, id)
		}
		if id%50000 == 7 && len(order2) > 0 && ins > 4 { // inserts in the middle
			nid := 1000000 + ins
			rows[nid] = [2]string{cat(), amount()}
			order2 = append(order2, nid)
			ins--
		}
	}
	for ; ins > 0; ins-- {
		nid := 2000000 + ins
		rows[nid] = [2]string{cat(), amount()}
		order2 = append(order2, nid)
	}
	v2 := salesTable(order2, rows)
	r.write("sales.csv", v2)
	r.write("notes/readme.txt", "v2\n")
	r.ok("commit", "-m", "sales v2")
	r.ok("checkout", "main")
	r.ok("merge", "incoming")

	out := filepath.Join(t.TempDir(), "delta")
	var sum map[string]any
	if err := json.Unmarshal([]byte(r.ok("delta", "sales", "--out", out, "--json")), &sum); err != nil {
		t.Fatal(err)
	}
	files := map[string]map[string]any{}
	for _, f := range sum["files"].([]any) {
		fm := f.(map[string]any)
		files[fm["path"].(string)] = fm
	}
	s := files["sales.csv"]
	if s == nil || s["added"].(float64) != 8 || s["changed"].(float64) != 6 || s["removed"].(float64) != 4 {
		t.Fatalf("delta of sales.csv: %v, want 8 added, 6 changed, 4 removed", s)
	}
	if got, err := os.ReadFile(filepath.Join(out, "files", "notes", "readme.txt")); err != nil || string(got) != "v2\n" {
		t.Fatalf("delta lacks the new version of notes/readme.txt: %q %v", got, err)
	}
	// Retrain on the delta only, and from scratch: the same model.
	mf, err := os.Open(model)
	if err != nil {
		t.Fatal(err)
	}
	m, err := stats.Load(mf)
	mf.Close()
	if err != nil {
		t.Fatal(err)
	}
	df, err := os.Open(filepath.Join(out, s["rows"].(string)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.ApplyDelta(df); err != nil {
		t.Fatal(err)
	}
	df.Close()
	var updated bytes.Buffer
	if err := m.Write(&updated); err != nil {
		t.Fatal(err)
	}
	scratch := trainOn(t, v2)
	if !bytes.Equal(updated.Bytes(), scratch) {
		t.Fatalf("model updated from the delta differs from the model retrained from scratch:\n%s\nvs\n%s", updated.Bytes(), scratch)
	}
	// The delta read only part of the table.
	var js []map[string]any
	if err := json.Unmarshal([]byte(r.ok("delta", "sales", "--json", "--stat")), &js); err != nil {
		t.Fatal(err)
	}
	for _, j := range js {
		if j["path"] == "sales.csv" {
			st := j["stats"].(map[string]any)
			parsed, total := st["bytes_parsed"].(float64), st["bytes_total"].(float64)
			t.Logf("delta parsed %.0f of %.0f bytes", parsed, total)
			if parsed > total/3 {
				t.Fatalf("delta parsed %.0f of %.0f bytes: it should follow the change", parsed, total)
			}
		}
	}
	// Register the retrained version; lineage shows both.
	writeBytes(t, model, updated.Bytes())
	r.ok("model", "register", "sales", "--artifact", model, "--data", "HEAD")
	lin := r.ok("lineage", "sales.csv")
	if !strings.Contains(lin, "sales@1") || !strings.Contains(lin, "sales@2") {
		t.Fatalf("lineage sales.csv: %s", lin)
	}
	// CSV output, and bad input.
	csvOut := r.ok("delta", "sales@1", "--format", "csv")
	if n := strings.Count(csvOut, "\nsales.csv,"); n != 8+4+2*6 {
		t.Fatalf("delta --format csv has %d rows, want %d", n, 8+4+12)
	}
	r.fails("unknown model", "delta", "nope")
	r.fails("no version 7", "delta", "sales@7")
	r.fails("unknown revision", "delta", "sales", "nosuchrev")
	r.fails("not empty", "delta", "sales@1", "--out", out)
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) != 2 {
		t.Fatalf("delta files: %v", keys)
	}
}
