package e2e

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

const parquetContractText = `tables:
  - path: data/t.parquet
    unknown_columns: refuse
    rows: {min: 1}
    columns:
      - name: id
        type: int
        min: 0
      - name: name
        required: true
        regex: 'customer-[0-9]+-[0-9a-f]+'
%s      - name: amount
        type: float
        min: 0
        max: 1000
      - name: region
        allowed: [eu, us, apac]
`

// TestParquetContract: a Parquet table keeps its data contract as a CSV
// table does. A commit whose changed rows break it is refused with one
// line naming the first broken rule at its row, counting the others;
// --no-verify stores it; dx check lists every violation; a unique column
// is checked against the rest of the table; a column the schema lacks is a
// violation of the schema. A commit of a small change reads a small part
// of the table.
func TestParquetContract(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.parquet table=parquet key=id\n")
	r.write("dx.contract.yaml", strings.Replace(parquetContractText, "%s", "        unique: true\n", 1))
	rs := parquetRows(100000)
	writeSmallPages(t, r.path("data/t.parquet"), rs)
	r.ok("commit", "-m", "v1")
	r.ok("check")
	head := r.ok("log", "--oneline")

	bad := append([]parquetRow(nil), rs...)
	bad[100].Amount = -5
	bad[200].Region = "mars"
	extra := parquetRow{ID: 100000, Name: rs[7].Name, Amount: 1, Region: "eu"}
	bad = append(bad, extra)
	writeSmallPages(t, r.path("data/t.parquet"), bad)
	res := r.fails("data/t.parquet:101: amount: min 0: -5 (and 2 more)", "commit", "-m", "bad")
	if res.code != exitInvalidData || strings.Count(strings.TrimSpace(res.stderr), "\n") > 0 {
		t.Fatalf("exit %d, want %d, one line: %q", res.code, exitInvalidData, res.stderr)
	}
	if h := r.ok("log", "--oneline"); h != head {
		t.Fatalf("a refused commit moved HEAD: %s", h)
	}
	r.ok("commit", "--no-verify", "-m", "stored anyway")
	res = r.exits(exitInvalidData, "3 violations of dx.contract.yaml in 1 tables", "check")
	want := []string{
		"data/t.parquet:101: amount: min 0: -5",
		`data/t.parquet:201: region: allowed eu,us,apac: "mars"`,
		`data/t.parquet:100001: name: unique (first on row 8): "` + rs[7].Name + `"`,
	}
	if got := strings.Split(strings.TrimSpace(res.stdout), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("dx check listed:\n%s\nwant:\n%s", res.stdout, strings.Join(want, "\n"))
	}
	res = r.exits(exitInvalidData, "", "check", "--json")
	var list []struct {
		Path, Column, Rule, Value string
		Line                      int
	}
	if err := json.Unmarshal([]byte(res.stdout), &list); err != nil || len(list) != 3 || list[1].Line != 201 || list[1].Column != "region" {
		t.Fatalf("check --json: %v %s", err, res.stdout)
	}
	r.ok("check", "HEAD~1")

	// Fixed, without the unique rule (the contract changed: read whole,
	// once); then a small change is checked by the rows it changed.
	r.write("dx.contract.yaml", strings.Replace(parquetContractText, "%s", "", 1))
	writeSmallPages(t, r.path("data/t.parquet"), rs)
	r.ok("commit", "-m", "fixed")
	size, err := os.Stat(r.path("data/t.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	small := append([]parquetRow(nil), rs...)
	small[5000].Amount = 999
	writeSmallPages(t, r.path("data/t.parquet"), small)
	var res2 struct {
		Verified struct {
			Tables int   `json:"tables_checked"`
			Bytes  int64 `json:"table_bytes_checked"`
		} `json:"verified"`
	}
	if err := json.Unmarshal([]byte(r.ok("commit", "--json", "-m", "one row")), &res2); err != nil {
		t.Fatal(err)
	}
	if v := res2.Verified; v.Tables != 1 || v.Bytes == 0 || v.Bytes > size.Size()/5 {
		t.Fatalf("checking a one-row change read %d bytes of a %d-byte table (%d tables checked)", v.Bytes, size.Size(), v.Tables)
	}
	t.Logf("checking a one-row change read %d bytes of the %d-byte table", res2.Verified.Bytes, size.Size())

	// A column the schema lacks breaks the schema, at line 1.
	r.write("dx.contract.yaml", "tables:\n  - path: data/t.parquet\n    columns:\n      - name: nope\n        required: true\n")
	r.fails(`data/t.parquet:1: nope: missing column: ""`, "commit", "-m", "nope")
}
