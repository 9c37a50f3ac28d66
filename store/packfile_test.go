package store

import (
	"bytes"
	"os"
	"testing"
)

func TestWriteFileDirect(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 4095, 4096, 4097, 1<<20 + 3} {
		for _, grown := range []bool{false, true} {
			buf := newAlignedBuf(n)
			if grown {
				buf = newAlignedBuf(1) // grows past capacity: unaligned
			}
			want := randData(uint64(n), n)
			buf.Write(want)
			// Leftovers of a recycled buffer beyond len must not leak.
			if cap(buf.b) > n {
				tail := buf.b[n:cap(buf.b)]
				for i := range tail {
					tail[i] = 0xee
				}
			}
			name, err := writeFileDirect(dir, buf)
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("n=%d grown=%v: read back %d bytes, want %d", n, grown, len(got), n)
			}
			os.Remove(name)
		}
	}
}
