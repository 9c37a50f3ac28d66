package table

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"

	gitignore "github.com/sabhiram/go-gitignore"

	"github.com/dxdata/dx/internal/csvdialect"
)

// AttributesFile is the gitattributes-style file at the worktree root that
// says which files are tables:
//
//	# pattern        attributes
//	*.csv            table=csv key=id
//	events/*.jsonl   table=jsonl key=event_id
//	sales.tsv        table=tsv key=date,region
//	raw/**           -table
//	*.parquet        table=parquet
//	exports/*.csv    table=csv delimiter=; key=id
//	raw/*.txt        table=csv delimiter=tab quote=' header=false key=1
//
// Patterns follow .gitignore rules. For each attribute the last matching
// line wins; "-table" unsets it. Without a key, rows are matched by their
// whole content. delimiter=, quote= and header=false describe a CSV that
// is not written in the default dialect (Python's csv 'excel': comma,
// double quote, a header line); a CSV without a header has columns named
// by their numbers, 1 to n, so key=1 keys it by its first column.
const AttributesFile = ".dxattributes"

// Spec says how to read one table.
type Spec struct {
	Format Format
	Key    []string // key columns; empty: whole-row identity
	// Dialect is a CSV's delimiter and quote; the zero value is
	// csvdialect.Default.
	Dialect csvdialect.Dialect
	// NoHeader: the CSV's first line is a row; its columns are named
	// 1 to n.
	NoHeader bool
}

// CSVDialect is the dialect a CSV table is read and written in.
func (s Spec) CSVDialect() csvdialect.Dialect {
	d := s.Dialect
	if d.Comma == 0 {
		d.Comma = csvdialect.Default.Comma
	}
	if d.Quote == 0 {
		d.Quote = csvdialect.Default.Quote
	}
	return d
}

// SameReading reports whether s and o read a file the same way.
func (s Spec) SameReading(o Spec) bool {
	return s.Format == o.Format && slices.Equal(s.Key, o.Key) && s.CSVDialect() == o.CSVDialect() && s.NoHeader == o.NoHeader
}

func (s Spec) String() string {
	out := string(s.Format)
	if len(s.Key) > 0 {
		out += " key=" + strings.Join(s.Key, ",")
	}
	if s.Format == CSV {
		if d := s.CSVDialect().String(); d != "" {
			out += " " + d
		}
		if s.NoHeader {
			out += " header=false"
		}
	}
	return out
}

type rule struct {
	m     *gitignore.GitIgnore
	table *string // nil: not mentioned; "": unset
	key   *[]string
	comma *byte // delimiter=
	quote *byte // quote=
	head  *bool // header=
}

// Attributes are the parsed rules of an attributes file.
type Attributes struct{ rules []rule }

// ParseAttributes reads an attributes file; name is used in errors.
func ParseAttributes(r io.Reader, name string) (*Attributes, error) {
	a := &Attributes{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if line == 1 {
			text = strings.TrimPrefix(text, "\uFEFF")
		}
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if strings.IndexByte(text, 0) >= 0 {
			return nil, fmt.Errorf("%s:%d: a NUL byte (not a text file?)", name, line)
		}
		fields := strings.Fields(text)
		if len(fields) < 2 {
			return nil, fmt.Errorf("%s:%d: expected a pattern and attributes", name, line)
		}
		if err := checkPattern(fields[0]); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		rl := rule{m: gitignore.CompileIgnoreLines(fields[0])}
		for _, f := range fields[1:] {
			k, v, hasV := strings.Cut(f, "=")
			switch {
			case k == "table" && hasV:
				if _, err := ParseFormat(v); err != nil {
					return nil, fmt.Errorf("%s:%d: %w", name, line, err)
				}
				rl.table = &v
			case k == "-table" && !hasV:
				empty := ""
				rl.table = &empty
			case k == "table":
				return nil, fmt.Errorf("%s:%d: table needs a format: table=csv, table=tsv, table=jsonl or table=parquet", name, line)
			case k == "key" && hasV:
				var cols []string
				for _, c := range strings.Split(v, ",") {
					if c = strings.TrimSpace(c); c == "" {
						return nil, fmt.Errorf("%s:%d: empty key column in %q", name, line, f)
					}
					cols = append(cols, c)
				}
				rl.key = &cols
			case k == "-key" && !hasV:
				none := []string{}
				rl.key = &none
			case k == "delimiter" && hasV:
				c, err := csvdialect.ParseDelimiter(v)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: %w", name, line, err)
				}
				rl.comma = &c
			case k == "quote" && hasV:
				c, err := csvdialect.ParseQuote(v)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: %w", name, line, err)
				}
				rl.quote = &c
			case k == "header" && hasV:
				b, err := strconv.ParseBool(v)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: header=%s: true or false", name, line, v)
				}
				rl.head = &b
			default:
				return nil, fmt.Errorf("%s:%d: unknown attribute %q (known: table=FORMAT, key=COL[,COL…], delimiter=CHAR|tab, quote=CHAR, header=false, -table, -key)", name, line, f)
			}
		}
		if rl.comma != nil && rl.quote != nil && *rl.comma == *rl.quote {
			return nil, fmt.Errorf("%s:%d: the delimiter and the quote are both %q", name, line, *rl.comma)
		}
		a.rules = append(a.rules, rl)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return a, nil
}

// checkPattern rejects a pattern that no path could match as written: a
// bracket expression left open or malformed (the gitignore matcher would
// silently match nothing).
func checkPattern(p string) error {
	glob := strings.TrimPrefix(strings.TrimSuffix(strings.ReplaceAll(p, "**", "*"), "/"), "!")
	if _, err := path.Match(glob, ""); err != nil {
		return fmt.Errorf("bad pattern %q: %v", p, err)
	}
	return nil
}

// Table reports whether path (slash-separated, relative to the root) is a
// table whose rows dx reads as text (CSV, TSV, JSONL), and how to read
// it. A Parquet table is not one: RowTable and Format report it.
func (a *Attributes) Table(path string) (Spec, bool) {
	s, _ := a.lookup(path)
	if s.Format == "" || s.Format == Parquet {
		return Spec{}, false
	}
	return s, true
}

// Format returns the table format the attributes give path, "" for none;
// set says whether any rule gave or unset one ("-table" sets "").
func (a *Attributes) Format(path string) (f Format, set bool) {
	s, set := a.lookup(path)
	return s.Format, set
}

// lookup applies the rules matching path: the last line giving each
// attribute wins. The dialect attributes apply to CSV only.
func (a *Attributes) lookup(path string) (s Spec, set bool) {
	if a == nil {
		return Spec{}, false
	}
	var table *string
	var d csvdialect.Dialect
	for _, r := range a.rules {
		if !r.m.MatchesPath(path) {
			continue
		}
		if r.table != nil {
			table = r.table
		}
		if r.key != nil {
			s.Key = *r.key
		}
		if r.comma != nil {
			d.Comma = *r.comma
		}
		if r.quote != nil {
			d.Quote = *r.quote
		}
		if r.head != nil {
			s.NoHeader = !*r.head
		}
	}
	if table == nil {
		return Spec{Key: s.Key}, false
	}
	s.Format, _ = ParseFormat(*table)
	if s.Format != CSV {
		return Spec{Format: s.Format, Key: s.Key}, true
	}
	s.Dialect = d
	if s.CSVDialect() == csvdialect.Default {
		s.Dialect = csvdialect.Dialect{}
	}
	return s, true
}
