package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSubscribeDeltaDrift: the delta a subscriber hands its command holds
// drift.json for the changed tables a data contract covers (not for the
// others, nor for the first delta, which has nothing to compare with):
// the shifted column breaches its threshold, the untouched one does not.
func TestSubscribeDeltaDrift(t *testing.T) {
	rs := fileRemote(t)
	pub := rs.repo(t)
	pub.write(".dxattributes", "*.csv table=csv key=id\n")
	pub.write("dx.contract.yaml", `tables:
  - path: t.csv
    columns:
      - name: id
        type: int
      - name: x
        type: float
        drift: {psi: 0.2, ks: 0.1}
      - name: y
        type: float
`)
	table := func(shift float64) string {
		var b strings.Builder
		b.WriteString("id,x,y\n")
		for i := range 3000 {
			x := float64(i%100) / 10
			if i%10 < 3 {
				x += shift
			}
			fmt.Fprintf(&b, "%d,%.2f,%.2f\n", i, x, float64(i%50)/5)
		}
		return b.String()
	}
	pub.write("t.csv", table(0))
	pub.write("u.csv", "id,v\n1,a\n")
	pub.ok("commit", "-m", "v1")
	pub.ok("push")
	sub := rs.clone(t)
	out := t.TempDir()
	cmd := fmt.Sprintf(`d=%s/$DX_NEW && mkdir -p $d && cp "$DX_DELTA"/*.json $d/`, out)
	sub.ok("subscribe", "origin", "main", "--once", "--exec", cmd)
	v1 := pub.head()
	if _, err := os.Stat(filepath.Join(out, v1, "drift.json")); !os.IsNotExist(err) {
		t.Fatalf("the first delta (from nothing) has a drift.json: %v", err)
	}
	pub.write("t.csv", table(6)) // 30% of x's values moved up by about 2σ
	pub.write("u.csv", "id,v\n1,b\n")
	pub.ok("commit", "-m", "v2")
	pub.ok("push")
	sub.ok("subscribe", "origin", "main", "--once", "--exec", cmd)
	v2 := pub.head()
	var sum struct {
		Drift string `json:"drift"`
	}
	b, err := os.ReadFile(filepath.Join(out, v2, "delta.json"))
	if err != nil || json.Unmarshal(b, &sum) != nil || sum.Drift != "drift.json" {
		t.Fatalf("delta.json names no drift report: %s (%v)", b, err)
	}
	var rep struct {
		Breached bool `json:"breached"`
		Tables   []struct {
			Path    string `json:"path"`
			Columns []struct {
				Name     string   `json:"name"`
				Breaches []string `json:"breaches"`
			} `json:"columns"`
		} `json:"tables"`
	}
	b, err = os.ReadFile(filepath.Join(out, v2, "drift.json"))
	if err != nil || json.Unmarshal(b, &rep) != nil {
		t.Fatalf("drift.json: %s (%v)", b, err)
	}
	if !rep.Breached || len(rep.Tables) != 1 || rep.Tables[0].Path != "t.csv" {
		t.Fatalf("drift.json covers %+v, want t.csv alone (u.csv has no contract), breached", rep.Tables)
	}
	breached := map[string]bool{}
	for _, c := range rep.Tables[0].Columns {
		breached[c.Name] = len(c.Breaches) > 0
	}
	if !breached["x"] || breached["y"] {
		t.Fatalf("breached columns %v, want x and not y", breached)
	}
}
