package blockread

import (
	"bytes"
	"math/rand/v2"
	"os"
	"testing"
)

// TestDirectRead: reads of a cold file at random offsets and lengths,
// unaligned, some past its end, give its bytes; a Direct reader is had
// only while the file is cold.
func TestDirectRead(t *testing.T) {
	data := randomBytes(3<<20+1234, 5)
	f, path := coldFile(t, data)
	d := OpenDirect(int(f.Fd()), path, int64(len(data)))
	if !directHere(t, f, path) {
		if d != nil {
			t.Fatal("a Direct reader where direct reads are refused")
		}
		return
	}
	if d == nil {
		t.Fatal("no Direct reader of a cold file")
	}
	defer d.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	var buf []byte
	for range 500 {
		off := rng.IntN(len(data) + 100)
		n := 1 + rng.IntN(300<<10)
		var got []byte
		var err error
		got, buf, err = d.Read(buf, int64(off), n)
		if err != nil {
			t.Fatal(err)
		}
		want := data[min(off, len(data)):min(off+n, len(data))]
		if !bytes.Equal(got, want) {
			t.Fatalf("read %d at %d: %d bytes, not the file's %d", n, off, len(got), len(want))
		}
	}
	if _, err := os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	if OpenDirect(int(f.Fd()), path, int64(len(data))) != nil {
		t.Fatal("a Direct reader of a file the page cache holds")
	}
}
