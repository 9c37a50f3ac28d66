package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const peopleContract = `tables:
  - path: data/people.csv
    unknown_columns: refuse
    columns:
      - name: id
        type: int
        required: true
      - name: name
        required: true
        regex: '[A-Z][a-z]+'
      - name: age
        type: int
        min: 0
        max: 150
`

// TestContractRefusesCommit: a commit whose changed rows break the data
// contract is refused with exit 7 and one line naming the first broken
// rule and counting the others; --no-verify stores it and says so; dx
// check then lists every violation, as text, JSON and a report file.
func TestContractRefusesCommit(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("dx.contract.yaml", peopleContract)
	r.write("data/people.csv", "id,name,age\n1,Ada,36\n2,Bob,40\n3,Cy,7\n")
	r.ok("commit", "-m", "people")
	r.ok("check")
	head := r.ok("log", "--oneline")

	r.write("data/people.csv", "id,name,age\n1,Ada,36\n2,bob,40\n3,Cy,700\n4,,x\n")
	res := r.fails("data/people.csv:3: name: regex: bob (and 3 more)", "commit", "-m", "bad")
	if res.code != exitInvalidData || strings.Count(strings.TrimSpace(res.stderr), "\n") > 0 {
		t.Fatalf("exit %d, want %d, one line: %q", res.code, exitInvalidData, res.stderr)
	}
	if h := r.ok("log", "--oneline"); h != head {
		t.Fatalf("a refused commit moved HEAD: %s", h)
	}
	r.ok("commit", "--no-verify", "-m", "stored anyway")
	if show := r.ok("show", "--json"); !strings.Contains(show, "dx.unverified") {
		t.Fatalf("show does not say the commit is unverified: %s", show)
	}
	reportFile := filepath.Join(t.TempDir(), "v.csv")
	res = r.exits(exitInvalidData, "4 violations of dx.contract.yaml in 1 tables", "check", "--report", reportFile)
	want := []string{
		"data/people.csv:3: name: regex: bob",
		"data/people.csv:4: age: max 150: 700",
		`data/people.csv:5: name: required: ""`,
		"data/people.csv:5: age: type int: x",
	}
	if got := strings.Split(strings.TrimSpace(res.stdout), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("dx check listed:\n%s\nwant:\n%s", res.stdout, strings.Join(want, "\n"))
	}
	report, err := os.ReadFile(reportFile)
	if err != nil || !strings.HasPrefix(string(report), "path,line,column,rule,value\ndata/people.csv,3,name,regex,bob\n") || strings.Count(string(report), "\n") != 5 {
		t.Fatalf("report: %v\n%s", err, report)
	}
	res = r.exits(exitInvalidData, "", "check", "--json")
	var list []struct {
		Path, Column, Rule, Value string
		Line                      int
	}
	if err := json.Unmarshal([]byte(res.stdout), &list); err != nil || len(list) != 4 || list[1].Line != 4 || list[1].Rule != "max 150" {
		t.Fatalf("check --json: %v %s", err, res.stdout)
	}
	// The revision before is clean.
	r.ok("check", "HEAD~1")

	// Fixing the rows makes the next commit pass; only they are checked.
	r.write("data/people.csv", "id,name,age\n1,Ada,36\n2,Bob,40\n3,Cy,70\n4,Di,9\n")
	r.ok("commit", "-m", "fixed")
	r.ok("check")
}

// TestContractChanges: a stricter contract is checked against the tables
// it covers, whole, though they did not change; a malformed contract or
// one naming a file that is not a table is refused in one line naming
// its line; a header without a column the contract names is one
// violation.
func TestContractChanges(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("data/people.csv", "id,name,age\n1,Ada,36\n2,Bob,40\n")
	r.write("notes.txt", "not a table\n")
	r.ok("commit", "-m", "people")

	r.write("dx.contract.yaml", strings.Replace(peopleContract, "max: 150", "max: 39", 1))
	res := r.fails("data/people.csv:3: age: max 39: 40", "commit", "-m", "stricter")
	if res.code != exitInvalidData {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	r.write("dx.contract.yaml", "tables:\n  - path: data/people.csv\n    columns:\n      - name: age\n        type: integer\n")
	r.fails(`dx.contract.yaml:4: column age: type "integer"`, "commit", "-m", "bad type")
	r.write("dx.contract.yaml", "tables:\n  - path: notes.txt\n    columns: []\n")
	r.fails("dx.contract.yaml:2: notes.txt is not a table", "commit", "-m", "not a table")
	r.write("dx.contract.yaml", "tables:\n  - path: data/*.csv\n    columns:\n      - name: email\n")
	r.fails(`data/people.csv:1: email: missing column: ""`, "commit", "-m", "missing column")
	r.write("dx.contract.yaml", peopleContract)
	r.ok("commit", "-m", "contract")
	r.ok("fsck")
}

// TestContractRefusesMerge: a merge whose result breaks the contract (a
// side committed with --no-verify) is refused before its commit, in the
// worktree and with --into; nothing moves.
func TestContractRefusesMerge(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("dx.contract.yaml", peopleContract)
	r.write("data/people.csv", "id,name,age\n1,Ada,36\n2,Bob,40\n3,Cy,7\n")
	r.ok("commit", "-m", "people")
	r.ok("branch", "side")
	r.write("data/people.csv", "id,name,age\n1,Ada,37\n2,Bob,40\n3,Cy,7\n")
	r.ok("commit", "-m", "ours")
	r.ok("checkout", "side")
	r.write("data/people.csv", "id,name,age\n1,Ada,36\n2,Bob,40\n3,Cy,7\n4,Di,-1\n")
	r.ok("commit", "--no-verify", "-m", "theirs, unchecked")
	r.ok("checkout", "main")
	head := r.ok("log", "--oneline")
	res := r.fails("the merged result: data/people.csv:5: age: min 0: -1 (fix it where it was merged from, then merge again)", "merge", "side")
	if res.code != exitInvalidData {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if h := r.ok("log", "--oneline"); h != head {
		t.Fatalf("a refused merge moved HEAD: %s", h)
	}
	if st := r.ok("status", "--short"); st != "" {
		t.Fatalf("a refused merge left the worktree changed: %q", st)
	}
	r.ok("branch", "target")
	r.fails("the merged result: data/people.csv:5: age:", "merge", "--into", "target", "side")
	r.ok("fsck")
}

// TestContractRefusesPush: a push whose commits include one made with
// --no-verify is refused when the branch it sends breaks the contract,
// against the remote's version of it; a later commit that fixes the data
// makes it go; --no-verify sends it anyway.
func TestContractRefusesPush(t *testing.T) {
	r := newRepo(t)
	r.ok("remote", "add", "origin", "file://"+t.TempDir())
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("dx.contract.yaml", peopleContract)
	r.write("data/people.csv", "id,name,age\n1,Ada,36\n2,Bob,40\n")
	r.ok("commit", "-m", "people")
	r.ok("push")
	r.write("data/people.csv", "id,name,age\n1,Ada,36\n2,Bob,400\n")
	r.ok("commit", "--no-verify", "-m", "unchecked")
	res := r.fails("push main: it holds commits made with --no-verify", "push")
	if res.code != exitInvalidData || !strings.Contains(res.stderr, "data/people.csv:3: age: max 150: 400") {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	r.write("data/people.csv", "id,name,age\n1,Ada,36\n2,Bob,41\n")
	r.ok("commit", "-m", "fixed")
	r.ok("push")

	r.write("data/people.csv", "id,name,age\n1,Ada,36\n2,Bob,-4\n")
	r.ok("commit", "--no-verify", "-m", "unchecked again")
	r.fails("age: min 0: -4", "push")
	r.ok("push", "--no-verify")
}

// TestContractRowBounds: the contract's row bounds refuse a commit that
// takes the row count out of them; the count of the version before is
// known from its check, so a change is checked, not the table counted;
// dx check says when the count is out of them.
func TestContractRowBounds(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("dx.contract.yaml", "tables:\n  - path: data/people.csv\n    rows: {min: 1, max: 3}\n")
	r.write("data/people.csv", "id,name,age\n1,Ada,36\n2,Bob,40\n3,Cy,7\n")
	r.ok("commit", "-m", "people")
	r.write("data/people.csv", "id,name,age\n1,Ada,36\n2,Bob,40\n3,Cy,7\n4,Di,9\n")
	res := r.fails("data/people.csv: (rows): max 3: 4", "commit", "-m", "too many")
	if res.code != exitInvalidData {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	r.write("data/people.csv", "id,name,age\n1,Ada,36\n3,Cy,7\n4,Di,9\n")
	r.ok("commit", "-m", "one out, one in")

	// On a big table, a change's check reads the changed chunks, not
	// the table: the count before it is known.
	r.write("dx.contract.yaml", "tables:\n  - path: data/people.csv\n    rows: {min: 1, max: 100000}\n")
	var b strings.Builder
	b.WriteString("id,name,age\n")
	for i := range 50000 {
		fmt.Fprintf(&b, "%d,Name%d,%d\n", i, i, i%90)
	}
	r.write("data/people.csv", b.String())
	r.ok("commit", "-m", "big")
	r.write("data/people.csv", b.String()+"50000,Last,1\n")
	var res2 struct {
		Verified struct {
			Bytes int64 `json:"table_bytes_checked"`
		} `json:"verified"`
	}
	if err := json.Unmarshal([]byte(r.ok("commit", "--json", "-m", "one more")), &res2); err != nil {
		t.Fatal(err)
	}
	if size := int64(b.Len()); res2.Verified.Bytes == 0 || res2.Verified.Bytes > size/4 {
		t.Fatalf("checking one added row read %d bytes of a %d-byte table", res2.Verified.Bytes, size)
	}
	r.write("data/people.csv", "id,name,age\n")
	r.ok("commit", "--no-verify", "-m", "emptied")
	res = r.exits(exitInvalidData, "", "check")
	if strings.TrimSpace(res.stdout) != "data/people.csv: (rows): min 1: 0" {
		t.Fatalf("dx check: %q", res.stdout)
	}
}

// TestContractEdgeTables: a header-only table keeps every rule but a row
// minimum; an all-null optional column passes; a JSONL row without a
// required field is refused at its line.
func TestContractEdgeTables(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.csv table=csv key=id\n*.jsonl table=jsonl key=id\n")
	r.write("dx.contract.yaml", peopleContract+`  - path: events.jsonl
    columns:
      - name: id
        type: int
      - name: what
        required: true
`)
	r.write("data/people.csv", "id,name,age\n")
	r.write("events.jsonl", "{\"id\":1,\"what\":\"x\"}\n")
	r.ok("commit", "-m", "header only")
	r.write("data/people.csv", "id,name,age\n1,Ada,\n2,Bob,\n")
	r.ok("commit", "-m", "no ages")
	r.write("events.jsonl", "{\"id\":1,\"what\":\"x\"}\n{\"id\":2}\n")
	res := r.fails(`events.jsonl:2: what: required: ""`, "commit", "-m", "no what")
	if res.code != exitInvalidData {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	r.write("dx.contract.yaml", strings.Replace(peopleContract, "    columns:", "    rows: {min: 3}\n    columns:", 1))
	r.write("events.jsonl", "{\"id\":1,\"what\":\"x\"}\n")
	r.fails("data/people.csv: (rows): min 3: 2", "commit", "-m", "at least three")
}

// TestContractUnique: a unique column other than the key refuses a value
// a row the table keeps has, or one a change brings twice, and takes a
// value a changed row gave up; a whole check names the line of the first
// row with the value; on a big table, a change's check reads few chunks
// of the old version (their ranges of values were learned).
func TestContractUnique(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("dx.contract.yaml", "tables:\n  - path: people.csv\n    columns:\n      - name: email\n        unique: true\n")
	var b strings.Builder
	b.WriteString("id,email,n\n")
	for i := range 40000 {
		fmt.Fprintf(&b, "%d,user%06d@example.com,%d\n", i, i, i%7)
	}
	base := b.String()
	r.write("people.csv", base)
	r.ok("commit", "-m", "people")

	r.write("people.csv", base+"40000,user000007@example.com,1\n")
	res := r.fails("people.csv:40002: email: unique (the table has it already): user000007@example.com", "commit", "-m", "dup")
	if res.code != exitInvalidData {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	r.write("people.csv", base+"40000,new@example.com,1\n40001,new@example.com,2\n")
	r.fails("people.csv:40003: email: unique: new@example.com", "commit", "-m", "twice")
	// Row 7 gives its email up to a new row: no duplicate.
	moved := strings.Replace(base, "7,user000007@example.com,0\n", "7,other@example.com,0\n", 1) + "40000,user000007@example.com,1\n"
	r.write("people.csv", moved)
	out := r.ok("commit", "--json", "-m", "moved")
	var res2 struct {
		Verified struct {
			Bytes int64 `json:"table_bytes_checked"`
		} `json:"verified"`
	}
	if err := json.Unmarshal([]byte(out), &res2); err != nil || res2.Verified.Bytes > int64(len(base))/3 {
		t.Fatalf("checking two changed rows read %d bytes of %d: %v", res2.Verified.Bytes, len(base), err)
	}
	r.write("people.csv", moved+"40001,user000009@example.com,1\n")
	r.ok("commit", "--no-verify", "-m", "stored anyway")
	res = r.exits(exitInvalidData, "", "check")
	if strings.TrimSpace(res.stdout) != "people.csv:40003: email: unique (first on line 11): user000009@example.com" {
		t.Fatalf("dx check: %q", res.stdout)
	}
}
