package locfile

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestEncodeIsWriter: Encode lays out the very bytes a Writer streams for
// the same entries (with the same checksum, hence the same file name),
// whether it encodes them in one part or several, and refuses what a
// Writer refuses.
func TestEncodeIsWriter(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 5, 1000, 200_000} {
		es := randEntries(r, n, randPacks(r, 1+r.IntN(40)))
		want := encode(t, es)
		asked := -1
		got, sum, err := Encode(len(es), func(i int) *Entry { return &es[i] }, func(size int) []byte { asked = size; return make([]byte, 0, size) })
		if err != nil {
			t.Fatal(err)
		}
		wantSum := [32]byte(want[len(want)-trailerSize+16:])
		if asked != len(want) || !bytes.Equal(got, want) || sum != wantSum {
			t.Fatalf("%d entries: Encode gives %d bytes (asked %d), the Writer %d; equal %v, same sum %v",
				n, len(got), asked, len(want), bytes.Equal(got, want), sum == wantSum)
		}
		f, err := Parse(got)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Verify(); err != nil {
			t.Fatalf("%d entries: %v", n, err)
		}
	}
	es := randEntries(r, 3, randPacks(r, 2))
	es[1], es[2] = es[2], es[1]
	if _, _, err := Encode(3, func(i int) *Entry { return &es[i] }, func(n int) []byte { return make([]byte, n) }); err == nil {
		t.Fatal("entries out of order were encoded")
	}
	es = randEntries(r, 2, randPacks(r, 1))
	es[1].Kind = 0
	if _, _, err := Encode(2, func(i int) *Entry { return &es[i] }, func(n int) []byte { return make([]byte, n) }); err == nil {
		t.Fatal("an invalid entry was encoded")
	}
}
