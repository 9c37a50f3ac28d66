package table

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dxdata/dx/merge"
)

func BenchmarkChunkKeys(b *testing.B) {
	var sb strings.Builder
	for i := 0; sb.Len() < 64<<10; i++ {
		fmt.Fprintf(&sb, "%d,Niaj Jones,niaj.jones892@corp.example,Quito,15939.89,2020-01-01T00:02:41Z,late partial\n", 100000+i)
	}
	chunk := []byte(sb.String())
	r := New(Spec{Format: CSV, Key: []string{"id"}})
	_, rangeOf, _ := r.ChunkKeys(merge.Header{Cols: []string{"id", "name", "email", "city", "amount", "created_at", "note"}})
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		rangeOf(chunk, false)
	}
}
