package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestEditAmountsInPlace: one row in every N has the last digit of its
// amount changed, nothing else, and the file keeps its length.
func TestEditAmountsInPlace(t *testing.T) {
	var before bytes.Buffer
	before.WriteString(tableHeader)
	g := newRowGen(1)
	var row []byte
	for id := int64(1); id <= 100; id++ {
		v := g.draw(id)
		row = appendRow(row[:0], id, &v)
		before.Write(row)
	}
	path := filepath.Join(t.TempDir(), "t.csv")
	if err := os.WriteFile(path, before.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := editAmountsInPlace(path, 10)
	if err != nil {
		t.Fatal(err)
	}
	if n != 10 { // data rows 10, 20, ..., 100 (line 0 is the header)
		t.Fatalf("%d rows edited, want 10", n)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != before.Len() {
		t.Fatalf("length %d, was %d", len(after), before.Len())
	}
	a, b := bytes.SplitAfter(after, []byte("\n")), bytes.SplitAfter(before.Bytes(), []byte("\n"))
	for i := range b {
		changed := !bytes.Equal(a[i], b[i])
		if want := i > 0 && i%10 == 0; changed != want {
			t.Fatalf("line %d changed %v, want %v:\n%s%s", i, changed, want, b[i], a[i])
		}
		if changed {
			at := amountEnd(b[i])
			if diff := bytes.Clone(a[i]); at < 0 || diff[at] == b[i][at] || !bytes.Equal(append(diff[:at:at], b[i][at:]...), b[i]) {
				t.Fatalf("line %d: more than the amount's last digit changed:\n%s%s", i, b[i], a[i])
			}
		}
	}
	if amountEnd([]byte("1,a,b,c\n")) != -1 || amountEnd([]byte("1,a,b,c,x,y\n")) != -1 {
		t.Fatal("a row without a numeric fifth field has an amount")
	}
}
