package contract

import (
	"math/big"
	"strings"
	"testing"

	"github.com/dxdata/dx/merge"
)

const sample = `tables:
  - path: data/people.csv
    unknown_columns: refuse
    columns:
      - name: id
        type: int
        required: true
        min: 1
      - name: email
        required: true
        regex: '[^@]+@[^@]+'
      - name: country
        allowed: [FR, DE]
      - name: amount
        type: decimal
        max: 100.50
      - name: born
        type: date
        min: 1900-01-01
  - path: "events/*.jsonl"
    columns:
      - name: at
        type: timestamp
      - name: ok
        type: bool
      - name: tags
        type: json
`

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"not yaml", "tables: [", "c.yaml:1: "},
		{"unknown top key", "tablez: []\n", `c.yaml:1: unknown key "tablez"`},
		{"unknown table key", "tables:\n  - path: a.csv\n    colums: []\n", `c.yaml:3: unknown key "colums"`},
		{"unknown rule", "tables:\n  - path: a.csv\n    columns:\n      - name: x\n        uniq: true\n", `c.yaml:5: unknown key "uniq"`},
		{"bad type", "tables:\n  - path: a.csv\n    columns:\n      - name: x\n        type: integer\n", `c.yaml:4: column x: type "integer"`},
		{"bad regex", "tables:\n  - path: a.csv\n    columns:\n      - name: x\n        regex: '('\n", "c.yaml:4: column x: regex: "},
		{"bad min", "tables:\n  - path: a.csv\n    columns:\n      - name: x\n        type: int\n        min: one\n", `c.yaml:6: column x: min: "one" is not a int`},
		{"bool order", "tables:\n  - path: a.csv\n    columns:\n      - name: x\n        type: bool\n        max: true\n", "c.yaml:6: column x: max: a bool column has no order"},
		{"twice", "tables:\n  - path: a.csv\n    columns:\n      - name: x\n      - name: x\n", `c.yaml:5: column "x" appears twice`},
		{"no path", "tables:\n  - columns: []\n", "c.yaml:2: a table without a path"},
		{"wrong shape", "tables:\n  - path: a.csv\n    columns:\n      - name: x\n        required: maybe\n", "c.yaml:5: cannot unmarshal"},
		{"unknown columns", "tables:\n  - path: a.csv\n    unknown_columns: deny\n", `c.yaml:2: unknown_columns: "deny"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(c.text), "c.yaml")
			if err == nil || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want one line starting %q", err, c.want)
			}
		})
	}
}

func TestRules(t *testing.T) {
	c, err := Parse(strings.NewReader(sample), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	people, ok := c.For("data/people.csv")
	if !ok || len(c.Paths()) != 1 {
		t.Fatal("no contract for data/people.csv, or the pattern counted as a path")
	}
	cols := []string{"id", "email", "country", "amount", "born"}
	ck := people.Checker(false)
	if ps := ck.Header(append(cols, "extra")); len(ps) != 1 || ps[0].String() != "extra: unknown column: extra" {
		t.Fatalf("header problems %v", ps)
	}
	row := func(vals ...string) []string {
		var out []string
		for _, p := range ck.Row(merge.Row{Cols: cols, Vals: vals}, nil) {
			out = append(out, p.String())
		}
		return out
	}
	for _, tc := range []struct {
		vals []string
		want string
	}{
		{[]string{"1", "a@b", "FR", "100.5", "1950-02-03"}, ""},
		{[]string{"1", "a@b", "", "", ""}, ""}, // nulls pass all but required
		{[]string{"", "a@b", "FR", "1", "1950-02-03"}, `id: required: ""`},
		{[]string{"x", "a@b", "FR", "1", "1950-02-03"}, "id: type int: x"},
		{[]string{"0", "a@b", "FR", "1", "1950-02-03"}, "id: min 1: 0"},
		{[]string{"1", "ab", "FR", "1", "1950-02-03"}, "email: regex: ab"},
		{[]string{"1", "a@b", "US", "1", "1950-02-03"}, "country: allowed FR,DE: US"},
		{[]string{"1", "a@b", "FR", "100.51", "1950-02-03"}, "amount: max 100.50: 100.51"},
		{[]string{"1", "a@b", "FR", "1e3", "1950-02-03"}, "amount: type decimal: 1e3"},
		{[]string{"1", "a@b", "FR", "1", "1850-02-03"}, "born: min 1900-01-01: 1850-02-03"},
		{[]string{"1", "a@b", "FR", "1", "1950-13-03"}, "born: type date: 1950-13-03"},
	} {
		got := strings.Join(row(tc.vals...), "; ")
		if got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.vals, got, tc.want)
		}
	}
	// A header without a column: reported once, not on every row.
	ck = people.Checker(false)
	if ps := ck.Header(cols[:4]); len(ps) != 1 || ps[0].Rule != "missing column" {
		t.Fatalf("header problems %v", ps)
	}
	if ps := ck.Row(merge.Row{Cols: cols[:4], Vals: []string{"1", "a@b", "FR", "1"}}, nil); len(ps) != 0 {
		t.Fatalf("row problems %v", ps)
	}

	events, ok := c.For("events/2026.jsonl")
	if !ok {
		t.Fatal("no contract for the pattern")
	}
	jk := events.Checker(true)
	for _, tc := range []struct {
		cols, vals []string
		want       string
	}{
		{[]string{"at", "ok", "tags"}, []string{`"2026-01-02T03:04:05Z"`, "true", `["a"]`}, ""},
		{[]string{"ok"}, []string{"null"}, ""},
		{[]string{"at"}, []string{"12"}, "at: type timestamp: 12"},
		{[]string{"ok"}, []string{`"true"`}, `ok: type bool: "true"`},
	} {
		var got []string
		for _, p := range jk.Row(merge.Row{Cols: tc.cols, Vals: tc.vals}, nil) {
			got = append(got, p.String())
		}
		if g := strings.Join(got, "; "); g != tc.want {
			t.Errorf("%q: got %q, want %q", tc.vals, g, tc.want)
		}
	}
}

// TestDecimalCompare: decimals compare exactly, as numbers, against a
// rational oracle.
func TestDecimalCompare(t *testing.T) {
	vals := []string{"0", "-0", "0.0", ".5", "-.5", "0.50", "1", "01", "1.", "10", "9.999", "-10", "-9.5", "100.50", "100.5", "100.51", "123456789012345678901234567890.1"}
	for _, a := range vals {
		for _, b := range vals {
			da, ok1 := parseDecimal(a)
			db, ok2 := parseDecimal(b)
			ra, _ := new(big.Rat).SetString(a)
			rb, _ := new(big.Rat).SetString(b)
			if !ok1 || !ok2 || ra == nil || rb == nil {
				t.Fatalf("%q or %q did not parse", a, b)
			}
			if got, want := da.compare(db), ra.Cmp(rb); got != want {
				t.Errorf("compare(%q, %q) = %d, want %d", a, b, got, want)
			}
		}
	}
	for _, bad := range []string{"", ".", "-", "1e3", "1.2.3", "0x1", " 1", "1,5"} {
		if _, ok := parseDecimal(bad); ok {
			t.Errorf("%q parsed as a decimal", bad)
		}
	}
}

// TestRulesEdgeCases: a JSONL row without a column the contract requires
// breaks required (and nothing else); a column all null keeps every rule
// but required; JSON strings are unquoted before allowed, regex and
// bounds; unknown JSONL fields are refused row by row.
func TestRulesEdgeCases(t *testing.T) {
	c, err := Parse(strings.NewReader(`tables:
  - path: e.jsonl
    unknown_columns: refuse
    columns:
      - name: id
        type: int
        required: true
      - name: tag
        allowed: [a, b]
      - name: score
        type: float
        min: 0.5
      - name: day
        type: date
        max: 2026-12-31
`), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tb, _ := c.For("e.jsonl")
	ck := tb.Checker(true)
	for _, tc := range []struct {
		cols, vals []string
		want       string
	}{
		{[]string{"id"}, []string{"1"}, ""},
		{[]string{"tag"}, []string{`"a"`}, `id: required: ""`},
		{[]string{"id", "tag"}, []string{"1", `"c"`}, `tag: allowed a,b: "c"`},
		{[]string{"id", "score"}, []string{"1", "0.25"}, "score: min 0.5: 0.25"},
		{[]string{"id", "score"}, []string{"1", `"0.75"`}, `score: type float: "0.75"`},
		{[]string{"id", "day"}, []string{"1", `"2027-01-01"`}, `day: max 2026-12-31: "2027-01-01"`},
		{[]string{"id", "day", "tag", "score"}, []string{"1", "null", "null", "null"}, ""},
		{[]string{"id", "extra"}, []string{"1", "2"}, "extra: unknown column: extra"},
		{[]string{"id"}, []string{"1.5"}, "id: type int: 1.5"},
	} {
		var got []string
		for _, p := range ck.Row(merge.Row{Cols: tc.cols, Vals: tc.vals}, nil) {
			got = append(got, p.String())
		}
		if g := strings.Join(got, "; "); g != tc.want {
			t.Errorf("%q=%q: got %q, want %q", tc.cols, tc.vals, g, tc.want)
		}
	}
	if ps := ck.Rows(0); len(ps) != 0 {
		t.Errorf("no bounds, yet %v", ps)
	}
}

func TestDriftThresholds(t *testing.T) {
	c, err := Parse(strings.NewReader("tables:\n  - path: a.csv\n    columns:\n      - name: x\n        drift: {psi: 0.3, ks: 0.05}\n"), File)
	if err != nil {
		t.Fatal(err)
	}
	tb, _ := c.For("a.csv")
	d := tb.Columns[0].Drift
	if d.PSI == nil || *d.PSI != 0.3 || d.KS == nil || *d.KS != 0.05 || d.Nulls != nil {
		t.Fatalf("drift %+v", d)
	}
	for text, want := range map[string]string{
		"drift: {psi: -1}":   "dx.contract.yaml:5: column x: drift: psi: want a number from 0 to +Inf",
		"drift: {ks: 2}":     "dx.contract.yaml:5: column x: drift: ks: want a number from 0 to 1",
		"drift: {spread: 1}": `dx.contract.yaml:5: unknown key "spread" (known: psi, ks, nulls)`,
	} {
		_, err := Parse(strings.NewReader("tables:\n  - path: a.csv\n    columns:\n      - name: x\n        "+text+"\n"), File)
		if err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %s", text, err, want)
		}
	}
}

// TestRowsOfTwoHeaders: one checker given rows of two files whose headers
// order the columns differently, in turn (its column positions are those
// of the header each row came with), finds each value where it is.
func TestRowsOfTwoHeaders(t *testing.T) {
	c, err := Parse(strings.NewReader(sample), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	people, _ := c.For("data/people.csv")
	ck := people.Checker(false)
	a := []string{"id", "email", "country", "amount", "born"}
	b := []string{"born", "amount", "country", "email", "id", "extra"}
	for range 3 {
		for _, tc := range []struct {
			cols, vals []string
			want       string
		}{
			{a, []string{"0", "a@b", "FR", "1", "1950-02-03"}, "id: min 1: 0"},
			{b, []string{"1950-02-03", "1", "FR", "a@b", "0", "x"}, "id: min 1: 0"},
			{b, []string{"1950-02-03", "1", "US", "a@b", "7", "x"}, "country: allowed FR,DE: US"},
			{a[:2], []string{"7", "a@b"}, ""}, // the others absent: null
		} {
			var got []string
			for _, p := range ck.Row(merge.Row{Cols: tc.cols, Vals: tc.vals}, nil) {
				got = append(got, p.String())
			}
			if strings.Join(got, "; ") != tc.want {
				t.Fatalf("%q %q: %q, want %q", tc.cols, tc.vals, got, tc.want)
			}
		}
	}
}
