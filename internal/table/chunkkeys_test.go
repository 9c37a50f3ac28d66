package table

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/merge"
)

// parsedRange parses a whole file and returns the least and greatest key of
// the rows starting in [from, to).
func parsedRange(t *testing.T, r *Reader, file string, from, to int) (dag.KeyRange, bool) {
	t.Helper()
	h, n, err := r.Header([]byte(file), true)
	if err != nil {
		t.Fatal(err)
	}
	var kr dag.KeyRange
	seen := false
	err = r.Parse(h, []byte(file[n:]), true, func(row merge.Row) error {
		if off := n + int(row.Off); off < from || off >= to {
			return nil
		}
		if !seen || dag.CompareKeys(row.Key, kr.Lo) < 0 {
			kr.Lo = row.Key
		}
		if !seen || dag.CompareKeys(row.Key, kr.Hi) > 0 {
			kr.Hi = row.Key
		}
		seen = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return kr, seen
}

func TestChunkKeys(t *testing.T) {
	cases := []struct {
		name   string
		spec   Spec
		file   string
		cuts   []int // chunk boundaries (row ends)
		want   []string
		giveUp []bool // the chunk's range is not known
	}{
		{"csv", Spec{Format: CSV, Key: []string{"id"}}, "id,v\n3,a\n10,b\n9,c\n", []int{9}, []string{"3..3", "9..10"}, nil},
		{"csv second key column, quoted others", Spec{Format: CSV, Key: []string{"k"}}, "a,k,b\nx,7,\"q,\nr\"\ny,2,z\n", nil, []string{"2..7"}, nil},
		{"crlf, bom, empty lines", Spec{Format: CSV, Key: []string{"id"}}, "\uFEFFid,v\r\n\r\nb,1\r\na,2\r\n\n", nil, []string{"a..b"}, nil},
		{"last line without newline", Spec{Format: CSV, Key: []string{"v"}}, "id,v\n1,x\n2,y", nil, []string{"x..y"}, nil},
		{"composite", Spec{Format: TSV, Key: []string{"a", "b"}}, "a\tb\tc\n1\tz\tq\n1\ty\tq\n", nil, []string{"1\x1fy..1\x1fz"}, nil},
		{"quoted key gives up", Spec{Format: CSV, Key: []string{"id"}}, "id,v\n\"1\",a\n2,b\n", []int{11}, []string{"", "2..2"}, []bool{true, false}},
		{"header only", Spec{Format: CSV, Key: []string{"id"}}, "id,v\n", nil, nil, []bool{true}},
		{"jsonl", Spec{Format: JSONL, Key: []string{"id"}}, "{\"id\":3,\"v\":\"a\"}\n{\"v\": {\"id\": 99, \"s\": \"}\\\"\"}, \"id\" : 10}\r\n\n{\"id\":\"9\"}", nil, []string{"3..10"}, nil},
		{"jsonl composite", Spec{Format: JSONL, Key: []string{"a", "b"}}, "{\"b\":\"y\",\"a\":1}\n{\"a\":1,\"b\":\"x\"}\n", nil, []string{"1\x1fx..1\x1fy"}, nil},
		{"jsonl key given twice", Spec{Format: JSONL, Key: []string{"id"}}, "{\"id\":1,\"id\":2}\n", nil, nil, []bool{true}},
		{"jsonl escaped key", Spec{Format: JSONL, Key: []string{"id"}}, "{\"id\":\"a\\u0041\"}\n", nil, nil, []bool{true}},
		{"jsonl object key", Spec{Format: JSONL, Key: []string{"id"}}, "{\"id\":{\"x\":1}}\n", nil, nil, []bool{true}},
		{"jsonl no key", Spec{Format: JSONL, Key: []string{"id"}}, "{\"v\":1}\n", nil, nil, []bool{true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := New(c.spec)
			h, _, err := r.Header([]byte(c.file), true)
			if err != nil {
				t.Fatal(err)
			}
			_, rangeOf, ok := r.ChunkKeys(h)
			if !ok {
				t.Fatal("no key ranges for a keyed CSV/TSV table")
			}
			bounds := append(append([]int{0}, c.cuts...), len(c.file))
			for i := 0; i+1 < len(bounds); i++ {
				got, ok := rangeOf([]byte(c.file[bounds[i]:bounds[i+1]]), i == 0)
				if c.giveUp != nil && c.giveUp[i] {
					if ok {
						t.Errorf("chunk %d: got %q, want no range", i, got)
					}
					continue
				}
				if !ok {
					t.Fatalf("chunk %d: no range", i)
				}
				if s := got.Lo + ".." + got.Hi; s != c.want[i] {
					t.Errorf("chunk %d: %q, want %q", i, s, c.want[i])
				}
			}
		})
	}
	if _, _, ok := New(Spec{Format: CSV}).ChunkKeys(merge.Header{Cols: []string{"a"}}); ok {
		t.Error("key ranges without a key")
	}
}

// TestChunkKeysMatchParse: on generated CSV (quoted fields with commas,
// quotes and newlines, CRLF, numeric and text keys) cut at random row
// ends, every chunk's range is exactly the least and greatest key Parse
// finds in it, or not known.
func TestChunkKeysMatchParse(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	field := func() string {
		switch rng.IntN(6) {
		case 0:
			return `"a,b"`
		case 1:
			return "\"x\ny\""
		case 2:
			return `"q""q"`
		case 3:
			return ""
		}
		return fmt.Sprintf("w%d", rng.IntN(100))
	}
	known := 0
	for iter := 0; iter < 200; iter++ {
		keyCol := rng.IntN(3)
		var sb strings.Builder
		sb.WriteString("c0,c1,c2\n")
		eol := "\n"
		if iter%3 == 0 {
			eol = "\r\n"
		}
		var ends []int
		for i := 0; i < 30; i++ {
			vals := []string{field(), field(), field()}
			if rng.IntN(2) == 0 {
				vals[keyCol] = fmt.Sprint(rng.IntN(1000))
			} else {
				vals[keyCol] = fmt.Sprintf("k%d", rng.IntN(1000))
			}
			if rng.IntN(20) == 0 {
				vals[keyCol] = `"quoted"`
			}
			sb.WriteString(strings.Join(vals, ",") + eol)
			ends = append(ends, sb.Len())
		}
		file := sb.String()
		spec := Spec{Format: CSV, Key: []string{fmt.Sprintf("c%d", keyCol)}}
		r := New(spec)
		h, _, err := r.Header([]byte(file), true)
		if err != nil {
			t.Fatal(err)
		}
		_, rangeOf, _ := r.ChunkKeys(h)
		from := 0
		for from < len(file) {
			to := len(file)
			for _, e := range ends {
				if e > from && rng.IntN(4) == 0 {
					to = e
					break
				}
			}
			got, ok := rangeOf([]byte(file[from:to]), from == 0)
			want, wok := parsedRange(t, r, file, from, to)
			if ok {
				known++
				if !wok || got != want {
					t.Fatalf("file %d [%d,%d): range %q..%q, parsed %q..%q (%v)", iter, from, to, got.Lo, got.Hi, want.Lo, want.Hi, wok)
				}
			}
			from = to
		}
	}
	if known < 100 {
		t.Fatalf("only %d chunks got a range", known)
	}
}

// FuzzChunkKeys: for any table Parse accepts whole, and any cut of it into
// chunks at row ends, a chunk's range, when known, holds the key of every
// row starting in it (a range that missed one could let a merge take a
// run unread that it had to read).
func FuzzChunkKeys(f *testing.F) {
	f.Add([]byte("id,v\n3,a\n10,\"b\nc\"\n9,c\n"), uint64(1), uint8(0))
	f.Add([]byte("\uFEFFa\tid\r\nx\t7\r\n\r\ny\t2\n"), uint64(2), uint8(1))
	f.Add([]byte("k,id\n\"q,\"\"\",1\n2,\"x\"\n"), uint64(3), uint8(0))
	f.Add([]byte("v,id\n37°36'37.8\"N,1\n\"ab\"c\"d,2\nx,3\ry,4\n"), uint64(6), uint8(0))
	f.Add([]byte("{\"id\":3}\n{\"v\":[1,{\"id\":2}],\"id\":\"x\"}\n"), uint64(4), uint8(2))
	f.Add([]byte("{\"id\":\"\x90\"}\n{\"\xff\":1,\"id\":2}\n"), uint64(5), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64, format uint8) {
		spec := Spec{Format: []Format{CSV, TSV, JSONL}[format%3], Key: []string{"id"}}
		r := New(spec)
		h, n, err := r.Header(data, true)
		if err != nil {
			return
		}
		_, rangeOf, ok := r.ChunkKeys(h)
		if !ok {
			return
		}
		type row struct {
			off int
			key string
		}
		var rows []row
		if err := r.Parse(h, data[n:], true, func(rw merge.Row) error {
			rows = append(rows, row{n + int(rw.Off), rw.Key})
			return nil
		}); err != nil {
			return
		}
		// Cut at row starts picked by seed.
		cuts := []int{0}
		for i, rw := range rows {
			if rw.off > 0 && (seed>>(uint(i)%64))&1 == 1 {
				cuts = append(cuts, rw.off)
			}
		}
		cuts = append(cuts, len(data))
		for c := 0; c+1 < len(cuts); c++ {
			from, to := cuts[c], cuts[c+1]
			kr, ok := rangeOf(data[from:to], from == 0)
			if !ok {
				continue
			}
			for _, rw := range rows {
				if rw.off >= from && rw.off < to && (dag.CompareKeys(rw.key, kr.Lo) < 0 || dag.CompareKeys(rw.key, kr.Hi) > 0) {
					t.Fatalf("chunk [%d,%d) range %q..%q misses key %q of the row at %d", from, to, kr.Lo, kr.Hi, rw.key, rw.off)
				}
			}
		}
	})
}
