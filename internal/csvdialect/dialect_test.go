package csvdialect

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// records reads all of data (the whole file) with Record.
func records(d Dialect, data []byte) (recs [][]string, ends []int) {
	for p := 0; p < len(data); {
		rec, end, ok := d.Record(data, p, true, nil)
		if !ok || end <= p {
			panic("Record at EOF must read")
		}
		recs, ends = append(recs, slices.Clone(rec)), append(ends, end)
		p = end
	}
	return recs, ends
}

func TestRecordCases(t *testing.T) {
	// Expected values are what Python 3's csv.reader returns for the same
	// text (strict off, newline='').
	cases := []struct {
		name, in string
		want     [][]string
	}{
		{"bare quote", "37°36'37.8\"N,b\n", [][]string{{`37°36'37.8"N`, "b"}}},
		{"text after closing quote", "\"ab\"c,d\n", [][]string{{"abc", "d"}}},
		{"quote after closing quote text", "\"ab\"c\"d,e\n", [][]string{{`abc"d`, "e"}}},
		{"CRLF", "a,b\r\nc,d\r\n", [][]string{{"a", "b"}, {"c", "d"}}},
		{"lone CR", "a,b\rc,d\r", [][]string{{"a", "b"}, {"c", "d"}}},
		{"empty line, no final line end", "a,b\n\nc,d", [][]string{{"a", "b"}, {}, {"c", "d"}}},
		{"open quote at EOF", "\"abc", [][]string{{"abc"}}},
		{"line end in quotes", "a,\"b\nc\"\n", [][]string{{"a", "b\nc"}}},
		{"doubled quotes", "a,\"\"\"x\"\"\"\n", [][]string{{"a", `"x"`}}},
		{"space before quote", " \"a\",b\n", [][]string{{` "a"`, "b"}}},
		{"quotes inside", "a\"b\"c,d\n", [][]string{{`a"b"c`, "d"}}},
		{"CR CRLF", "a\r\r\nb\n", [][]string{{"a"}, {}, {"b"}}},
		{"CR in quotes", "\"a\rb\",c\n", [][]string{{"a\rb", "c"}}},
		{"quoted then CR", "\"a\"\r\"b\"\n", [][]string{{"a"}, {"b"}}},
		{"trailing delimiter", "a,\n,\n", [][]string{{"a", ""}, {"", ""}}},
		{"space after closing quote", "\"a\" ,b\n", [][]string{{"a ", "b"}}},
		{"open quote with line end at EOF", "a,\"b\n", [][]string{{"a", "b\n"}}},
		{"one empty quoted field", "\"\"\n", [][]string{{""}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _ := records(Default, []byte(c.in))
			if !slices.EqualFunc(got, c.want, slices.Equal) {
				t.Fatalf("%q: got %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// checkRowEnds checks the row boundaries of data (RowEnd, NextRowEnd from
// every split, LastRowEnd) against the records Record reads: a '\n'
// ending a record is a row end, and nothing else is.
func checkRowEnds(t *testing.T, d Dialect, data []byte) {
	t.Helper()
	_, ends := records(d, data)
	var want []int
	p := 0
	for _, e := range ends {
		// A record ended by '\n', not by the end of the file (a quoted
		// field left open there may end in '\n').
		if _, end, ok := d.Record(data, p, false, nil); ok && end == e && data[e-1] == '\n' {
			want = append(want, e)
		}
		p = e
	}
	// The plain path reads what the field-by-field one reads.
	for p := 0; p < len(data); {
		for _, atEOF := range []bool{false, true} {
			a, ea, oka := d.Record(data, p, atEOF, nil)
			b, eb, okb := d.record(data, p, atEOF, nil)
			if oka != okb || ea != eb || !slices.Equal(a, b) {
				t.Fatalf("%q at %d (atEOF %v): Record %q %d %v, record %q %d %v", data, p, atEOF, a, ea, oka, b, eb, okb)
			}
		}
		_, e, _ := d.Record(data, p, true, nil)
		p = e
	}
	var got []int
	for p := 0; p < len(data); {
		e := d.RowEnd(data, p)
		if e < 0 {
			break
		}
		got, p = append(got, e), e
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%q: RowEnd ends %v, Record ends %v", data, got, want)
	}
	// Pieces read apart, each from every state, and composed from the
	// start give the same row ends, wherever the text is cut.
	for cut := 0; cut <= len(data); cut++ {
		s := FieldStart
		for from := 0; from < len(data); {
			to := min(from+1+(cut+from)%7, len(data))
			if cut > from && cut < to {
				to = cut
			}
			tr := DecodeTransitions(d.Transitions(data[from:to]).Encode())
			var end bool
			if s, end = tr.Next(s); end != slices.Contains(want, to) {
				t.Fatalf("%q in pieces (cut at %d): row end at %d %v, Record ends %v", data, cut, to, end, want)
			}
			from = to
		}
		if s != d.Advance(FieldStart, data) {
			t.Fatalf("%q in pieces: state %d, read whole %d", data, s, d.Advance(FieldStart, data))
		}
	}
	// Splitting the bytes anywhere and carrying the state gives the same.
	for cut := 0; cut <= len(data); cut++ {
		if ends := d.EndsRow(data[:cut]); ends != slices.Contains(want, cut) {
			t.Fatalf("%q up to %d: EndsRow %v, Record ends %v", data, cut, ends, want)
		}
		s := d.Advance(FieldStart, data[:cut])
		i, _ := d.NextRowEnd(s, data[cut:])
		next := -1
		for _, e := range want {
			if e-1 >= cut {
				next = e - 1 - cut
				break
			}
		}
		if i != next {
			t.Fatalf("%q cut at %d: next row end %d, want %d", data, cut, i, next)
		}
		last := -1
		for _, e := range want {
			if e-1 < cut {
				last = e - 1
			}
		}
		if l := d.LastRowEnd(FieldStart, data[:cut], 0); l != last {
			t.Fatalf("%q up to %d: last row end %d, want %d", data, cut, l, last)
		}
	}
}

func TestRowEndsAgreeWithRecords(t *testing.T) {
	alphabet := []byte("ab,\";\n\r ")
	for seed := range uint64(3000) {
		rng := rand.New(rand.NewPCG(seed, 7))
		data := make([]byte, rng.IntN(40))
		for i := range data {
			data[i] = alphabet[rng.IntN(len(alphabet))]
		}
		d := Default
		if seed%3 == 0 {
			d = Dialect{Comma: ';', Quote: '\''}
			for i, c := range data {
				if c == '"' {
					data[i] = '\''
				}
			}
		}
		checkRowEnds(t, d, data)
	}
}

func FuzzRowEnds(f *testing.F) {
	f.Add([]byte("a,\"b\nc\"\n\"x\"y\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkRowEnds(t, Default, data) })
}

// TestAppendFieldReadsBack checks that written records read back as the
// same fields.
func TestAppendFieldReadsBack(t *testing.T) {
	vals := []string{"", "a", `"`, `a"b`, "a,b", "a\nb", "a\rb", " a", `\.`, `""`, "x;y", "'q'"}
	for _, d := range []Dialect{Default, {Comma: ';', Quote: '\''}, {Comma: '\t', Quote: '"'}} {
		for n := 1; n <= 3; n++ {
			for i := range vals {
				rec := make([]string, n)
				for k := range rec {
					rec[k] = vals[(i+k*5)%len(vals)]
				}
				var b []byte
				for k, v := range rec {
					if k > 0 {
						b = append(b, d.Comma)
					}
					b = d.AppendField(b, v, n)
				}
				b = append(b, '\n')
				got, end, ok := d.Record(b, 0, false, nil)
				if !ok || end != len(b) || !slices.Equal(got, rec) {
					t.Fatalf("%v: %q wrote %q, read back %q (ok %v, end %d)", d, rec, b, got, ok, end)
				}
			}
		}
	}
}
