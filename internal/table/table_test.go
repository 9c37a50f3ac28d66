package table

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/dxdata/dx/internal/csvdialect"
	"github.com/dxdata/dx/merge"
)

func TestAttributes(t *testing.T) {
	const file = `# tables
*.csv            table=csv key=id
events/*.jsonl   table=jsonl key=event_id
sales.tsv        table=tsv key=date,region
raw/**           -table
nokey.csv        -key
`
	a, err := ParseAttributes(strings.NewReader(file), ".dxattributes")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path   string
		ok     bool
		format Format
		key    []string
	}{
		{"a.csv", true, CSV, []string{"id"}},
		{"deep/dir/b.csv", true, CSV, []string{"id"}},
		{"raw/c.csv", false, "", nil},
		{"events/e.jsonl", true, JSONL, []string{"event_id"}},
		{"other/events/e.jsonl", false, "", nil},
		{"sales.tsv", true, TSV, []string{"date", "region"}},
		{"nokey.csv", true, CSV, nil},
		{"readme.md", false, "", nil},
	}
	for _, tc := range tests {
		s, ok := a.Table(tc.path)
		if ok != tc.ok || s.Format != tc.format || !slices.Equal(s.Key, tc.key) {
			t.Errorf("%s: got %v %+v, want %v %s %v", tc.path, ok, s, tc.ok, tc.format, tc.key)
		}
	}
}

// TestAttributesDialect: delimiter=, quote= and header= apply to CSV, the
// last matching line giving each; the default dialect is the zero value.
func TestAttributesDialect(t *testing.T) {
	const file = `*.csv            table=csv key=id
semi/*.csv       delimiter=; quote='
raw/*.csv        delimiter=tab header=false key=2
pipe.tsv         table=tsv delimiter=|
`
	a, err := ParseAttributes(strings.NewReader(file), ".dxattributes")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want string // Spec.String
	}{
		{"a.csv", "csv key=id"},
		{"semi/b.csv", "csv key=id delimiter=; quote='"},
		{"raw/c.csv", "csv key=2 delimiter=tab header=false"},
		{"pipe.tsv", "tsv"},
	}
	for _, tc := range tests {
		s, ok := a.Table(tc.path)
		if !ok || s.String() != tc.want {
			t.Errorf("%s: %v %q, want %q", tc.path, ok, s.String(), tc.want)
		}
	}
	def, _ := a.Table("a.csv")
	semi, _ := a.Table("semi/b.csv")
	if def.SameReading(semi) || !def.SameReading(def) {
		t.Error("SameReading does not tell the dialects apart")
	}
}

// TestCSVDialects reads files of other dialects: a delimiter and a quote
// of their own, no header (columns 1..n, keyed by number), and writes rows
// back in the same dialect.
func TestCSVDialects(t *testing.T) {
	semi := Spec{Format: CSV, Key: []string{"id"}, Dialect: csvdialect.Dialect{Comma: ';', Quote: '\''}}
	cols, rows, err := parseAll(t, semi, "id;v\n1;'a;b'\n2;x,\"y\"\n")
	if err != nil || !slices.Equal(cols, []string{"id", "v"}) || len(rows) != 2 || rows[0].Vals[1] != "a;b" || rows[1].Vals[1] != `x,"y"` {
		t.Fatalf("semicolons: %q %v %v", cols, rows, err)
	}
	bare := Spec{Format: CSV, Key: []string{"2"}, NoHeader: true}
	cols, rows, err = parseAll(t, bare, "a,37°36'37.8\"N\nb,\"ab\"c\n")
	if err != nil || !slices.Equal(cols, []string{"1", "2"}) || len(rows) != 2 || rows[0].Key != `37°36'37.8"N` || rows[1].Key != "abc" || rows[0].Line != 1 {
		t.Fatalf("no header: %q %+v %v", cols, rows, err)
	}
	h := merge.Header{Cols: []string{"id", "v"}}
	out := New(semi).AppendRow(nil, h, &merge.Row{Cols: h.Cols, Vals: []string{"3", "it's;"}}, "\n")
	if string(out) != "3;'it''s;'\n" {
		t.Fatalf("written %q", out)
	}
}

func TestAttributesErrors(t *testing.T) {
	tests := []struct{ file, want string }{
		{"*.csv table=xls\n", `.dxattributes:1: unknown table format "xls"`},
		{"# c\n*.csv\n", ".dxattributes:2: expected a pattern and attributes"},
		{"*.csv colour=red\n", `.dxattributes:1: unknown attribute "colour=red"`},
		{"*.csv table=csv key=a,,b\n", ".dxattributes:1: empty key column"},
		{"*.csv table\n", ".dxattributes:1: table needs a format"},
		{"# c\n*.csv table=csv delimiter=;;\n", `.dxattributes:2: bad delimiter ";;"`},
		{"*.csv table=csv delimiter=\n", `.dxattributes:1: bad delimiter ""`},
		{"*.csv table=csv quote=tab\n", `.dxattributes:1: bad quote "tab"`},
		{"*.csv table=csv header=maybe\n", ".dxattributes:1: header=maybe: true or false"},
		{"*.csv table=csv delimiter=| quote=|\n", `.dxattributes:1: the delimiter and the quote are both '|'`},
	}
	for _, tc := range tests {
		_, err := ParseAttributes(strings.NewReader(tc.file), ".dxattributes")
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want prefix %q", tc.file, err, tc.want)
		}
	}
}

// parseAll parses a whole file: header, then rows.
func parseAll(t *testing.T, s Spec, data string) ([]string, []merge.Row, error) {
	t.Helper()
	r := New(s)
	h, n, err := r.Header([]byte(data), true)
	if err != nil {
		return nil, nil, err
	}
	var rows []merge.Row
	err = r.Parse(h, []byte(data[n:]), true, func(row merge.Row) error {
		rows = append(rows, row)
		return nil
	})
	return h.Cols, rows, err
}

func TestCSVEdgeCases(t *testing.T) {
	keyed := Spec{Format: CSV, Key: []string{"id"}}
	tests := []struct {
		name  string
		data  string
		cols  []string
		rows  [][]string
		lines []int
	}{
		{"plain", "id,v\n1,a\n2,b\n", []string{"id", "v"}, [][]string{{"1", "a"}, {"2", "b"}}, []int{1, 2}},
		{"quoted comma and newline", "id,v\n1,\"a,b\nc\"\n2,\"say \"\"hi\"\"\"\n", []string{"id", "v"}, [][]string{{"1", "a,b\nc"}, {"2", `say "hi"`}}, []int{1, 3}},
		{"crlf", "id,v\r\n1,a\r\n2,b\r\n", []string{"id", "v"}, [][]string{{"1", "a"}, {"2", "b"}}, []int{1, 2}},
		{"bom", "\uFEFFid,v\n1,a\n", []string{"id", "v"}, [][]string{{"1", "a"}}, []int{1}},
		{"no final newline", "id,v\n1,a\n2,b", []string{"id", "v"}, [][]string{{"1", "a"}, {"2", "b"}}, []int{1, 2}},
		{"header only", "id,v\n", []string{"id", "v"}, nil, nil},
		{"header without newline", "id,v", []string{"id", "v"}, nil, nil},
		{"bare quote", "id,v\n1,37°36'37.8\"N\n", []string{"id", "v"}, [][]string{{"1", `37°36'37.8"N`}}, []int{1}},
		{"text after closing quote", "id,v\n1,\"ab\"c\"d\n", []string{"id", "v"}, [][]string{{"1", `abc"d`}}, []int{1}},
		{"lone CR", "id,v\r1,a\r2,b\r", []string{"id", "v"}, [][]string{{"1", "a"}, {"2", "b"}}, []int{1, 2}},
		{"empty lines", "id,v\n\n1,a\n\r\n2,b\n", []string{"id", "v"}, [][]string{{"1", "a"}, {"2", "b"}}, []int{2, 4}},
		{"open quote at the end", "id,v\n1,\"a\nb", []string{"id", "v"}, [][]string{{"1", "a\nb"}}, []int{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cols, rows, err := parseAll(t, keyed, tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cols, tc.cols) {
				t.Fatalf("cols %q, want %q", cols, tc.cols)
			}
			if len(rows) != len(tc.rows) {
				t.Fatalf("%d rows, want %d", len(rows), len(tc.rows))
			}
			for i, r := range rows {
				if !slices.Equal(r.Vals, tc.rows[i]) || r.Key != tc.rows[i][0] || r.Line != tc.lines[i] {
					t.Errorf("row %d: %q key %q line %d, want %q line %d", i, r.Vals, r.Key, r.Line, tc.rows[i], tc.lines[i])
				}
			}
		})
	}
	// An empty file is an empty table.
	cols, rows, err := parseAll(t, keyed, "")
	if err != nil || cols != nil || rows != nil {
		t.Fatalf("empty: %q %v %v", cols, rows, err)
	}
}

func TestJSONL(t *testing.T) {
	s := Spec{Format: JSONL, Key: []string{"id"}}
	data := "{\"id\": 1, \"v\": {\"b\": 2, \"a\": [1, 2]}}\r\n\n{\"id\":\"x\",\"v\":null}"
	_, rows, err := parseAll(t, s, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	// Nested objects are compared in one spelling: keys sorted, compact.
	if v, _ := rows[0].Value("v"); v != `{"a":[1,2],"b":2}` {
		t.Errorf("nested value %s", v)
	}
	if rows[0].Key != "1" || rows[1].Key != "x" || rows[1].Line != 3 {
		t.Errorf("keys %q %q, line %d", rows[0].Key, rows[1].Key, rows[1].Line)
	}
	_, _, err = parseAll(t, s, "{\"id\":1}\n{\"v\":2}\n")
	var le *merge.LineError
	if !errors.As(err, &le) || le.Line != 2 || !strings.Contains(err.Error(), `no key field "id"`) {
		t.Fatalf("missing key: %v", err)
	}
	_, _, err = parseAll(t, s, "{\"id\":1}\n[1,2]\n")
	if !errors.As(err, &le) || le.Line != 2 {
		t.Fatalf("not an object: %v", err)
	}
}

func TestMisaligned(t *testing.T) {
	r := New(Spec{Format: CSV})
	h := merge.Header{Cols: []string{"a", "b"}}
	nop := func(merge.Row) error { return nil }
	// Bytes ending inside a quoted field, not at the end of the file.
	if err := r.Parse(h, []byte("1,\"x\n"), false, nop); !errors.Is(err, merge.ErrMisaligned) {
		t.Fatalf("open quote: %v", err)
	}
	if err := r.Parse(h, []byte("1,x\n2,y"), false, nop); !errors.Is(err, merge.ErrMisaligned) {
		t.Fatalf("no final newline: %v", err)
	}
	if err := r.Parse(h, []byte("1,x\n2,y"), true, nop); err != nil {
		t.Fatalf("at EOF: %v", err)
	}
}

// TestAppendJSONString matches encoding/json (HTML escaping off).
func TestAppendJSONString(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "Zürich", "\"", "\\", "\n", "\r", "\t", "\x00", "\x1f", "\x7f", "<>&", "\u2028", "\u2029", "\xff", "\xe2\x82", "😀", " "}
	for i := 0; i < 5000; i++ {
		var b strings.Builder
		for n := r.IntN(8); n > 0; n-- {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		s := b.String()
		var want bytes.Buffer
		e := json.NewEncoder(&want)
		e.SetEscapeHTML(false)
		if err := e.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := string(appendJSONString(nil, s)); got != strings.TrimSuffix(want.String(), "\n") {
			t.Fatalf("%q: got %s want %s", s, got, want.String())
		}
	}
}
