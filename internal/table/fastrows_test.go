package table

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dxdata/dx/merge"
)

// FuzzFastRows: where FastRows reads rows, Parse reads the same rows with
// the same keys, without an error (it is the fast path of the one parser,
// never a second dialect).
func FuzzFastRows(f *testing.F) {
	for _, s := range []string{
		"id,v\n1,a\n2,b\n", "id,v\r\n1,a\r\n\r\n2,b", "id\tv\n1\ta\n2\tb\n", "id,v\n1,a,x\n",
		"id,v\n1\n", "id,v\n\"1\",a\n", "id,v\n1,a\r\r\n2,b\r", "id,v\n1,\xff\n", "id,v\n\n\n1,a\n",
	} {
		f.Add([]byte(s), false, false)
		f.Add([]byte(s), true, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, tsv, composite bool) {
		spec := Spec{Format: CSV, Key: []string{"id"}}
		if tsv {
			spec.Format = TSV
		}
		if composite {
			spec.Key = []string{"v", "id"}
		}
		r := New(spec)
		h, n, err := r.Header(data, true)
		if err != nil {
			return
		}
		body := data[n:]
		var fast [][]byte
		if !r.FastRows(h, body, func(key []byte) { fast = append(fast, bytes.Clone(key)) }) {
			return
		}
		var slow []string
		if err := r.Parse(h, body, true, func(row merge.Row) error { slow = append(slow, row.Key); return nil }); err != nil {
			t.Fatalf("FastRows read %q, Parse fails: %v", body, err)
		}
		if len(fast) != len(slow) {
			t.Fatalf("FastRows read %d rows, Parse %d, of %q", len(fast), len(slow), body)
		}
		for i := range fast {
			if string(fast[i]) != slow[i] {
				t.Fatalf("row %d: FastRows key %q, Parse %q, of %q", i, fast[i], slow[i], body)
			}
		}
	})
}

// FuzzFastFields: where FastFields reads rows, Parse reads the same rows
// with the same fields, without an error.
func FuzzFastFields(f *testing.F) {
	for _, s := range []string{
		"id,v\n1,a\n2,b\n", "id,v\r\n1,a\r\n\r\n2,b", "id\tv\n1\ta\n2\tb\n", "id,v\n1,a,x\n",
		"id,v\n1\n", "id,v\n\"1\",a\n", "id,v\n1,a\r\r\n2,b\r", "id,v\n1,\xff\n", "id,v\n\n\n1,a\n", "id,v\n,\n",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, tsv bool) {
		spec := Spec{Format: CSV}
		if tsv {
			spec.Format = TSV
		}
		r := New(spec)
		h, n, err := r.Header(data, true)
		if err != nil {
			return
		}
		body := data[n:]
		var fast [][]string
		if !r.FastFields(h, body, func(fs [][]byte) {
			row := make([]string, len(fs))
			for i, v := range fs {
				row[i] = string(v)
			}
			fast = append(fast, row)
		}) {
			return
		}
		var slow [][]string
		if err := r.Parse(h, body, true, func(row merge.Row) error { slow = append(slow, row.Vals); return nil }); err != nil {
			t.Fatalf("FastFields read %q, Parse fails: %v", body, err)
		}
		if len(fast) != len(slow) {
			t.Fatalf("FastFields read %d rows, Parse %d, of %q", len(fast), len(slow), body)
		}
		for i := range fast {
			if strings.Join(fast[i], "\x00") != strings.Join(slow[i], "\x00") {
				t.Fatalf("row %d: FastFields %q, Parse %q, of %q", i, fast[i], slow[i], body)
			}
		}
	})
}
