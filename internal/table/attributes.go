package table

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"strings"

	gitignore "github.com/sabhiram/go-gitignore"
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
//
// Patterns follow .gitignore rules. For each attribute the last matching
// line wins; "-table" unsets it. Without a key, rows are matched by their
// whole content.
const AttributesFile = ".dxattributes"

// Spec says how to read one table.
type Spec struct {
	Format Format
	Key    []string // key columns; empty: whole-row identity
}

func (s Spec) String() string {
	if len(s.Key) == 0 {
		return string(s.Format)
	}
	return fmt.Sprintf("%s key=%s", s.Format, strings.Join(s.Key, ","))
}

type rule struct {
	m     *gitignore.GitIgnore
	table *string // nil: not mentioned; "": unset
	key   *[]string
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
			default:
				return nil, fmt.Errorf("%s:%d: unknown attribute %q (known: table=FORMAT, key=COL[,COL…], -table, -key)", name, line, f)
			}
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
// table whose rows dx reads, and how to read it. A Parquet table is not one
// yet: Format reports it.
func (a *Attributes) Table(path string) (Spec, bool) {
	f, key, _ := a.lookup(path)
	if f == "" || f == Parquet {
		return Spec{}, false
	}
	return Spec{Format: f, Key: key}, true
}

// Format returns the table format the attributes give path, "" for none;
// set says whether any rule gave or unset one ("-table" sets "").
func (a *Attributes) Format(path string) (f Format, set bool) {
	f, _, set = a.lookup(path)
	return f, set
}

// lookup applies the rules matching path: the last table and key
// attributes win.
func (a *Attributes) lookup(path string) (f Format, key []string, set bool) {
	if a == nil {
		return "", nil, false
	}
	var table *string
	for _, r := range a.rules {
		if !r.m.MatchesPath(path) {
			continue
		}
		if r.table != nil {
			table = r.table
		}
		if r.key != nil {
			key = *r.key
		}
	}
	if table == nil {
		return "", key, false
	}
	f, _ = ParseFormat(*table)
	return f, key, true
}
