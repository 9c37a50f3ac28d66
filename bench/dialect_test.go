package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dxdata/dx/internal/csvdialect"
)

// TestSemicolonsQuoted: the quoted variant is the same rows read in the
// ';' dialect, every 16th row's last field "v;\nv" and the others as they
// were.
func TestSemicolonsQuoted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.csv")
	in := "id,name,note\n1,a,x\n16,b,y\n17,c,z\n32,d,w\n"
	if err := os.WriteFile(path, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := semicolons(path, true); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := csvdialect.Dialect{Comma: ';', Quote: '"'}
	want := [][]string{{"id", "name", "note"}, {"1", "a", "x"}, {"16", "b", "y;\ny"}, {"17", "c", "z"}, {"32", "d", "w;\nw"}}
	var got [][]string
	for p := 0; p < len(b); {
		rec, end, ok := d.Record(b, p, true, nil)
		if !ok {
			t.Fatalf("no record at %d of %q", p, b)
		}
		got, p = append(got, rec), end
	}
	if len(got) != len(want) {
		t.Fatalf("%q: %q", b, got)
	}
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("%q: record %d is %q, want %q", b, i, got[i], want[i])
			}
		}
	}
}
