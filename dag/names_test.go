package dag

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestReservedName: the forms a file system may take for .git or .dx are
// reserved, names that only resemble them are not, and the allocation-free
// path for ASCII names agrees with the general one on random names made
// of the characters that matter.
func TestReservedName(t *testing.T) {
	for _, n := range []string{".git", ".GIT", ".Git.", ".git ", ".git . ", ".git::$DATA", "git~1", "GIT~1",
		".dx", ".DX", "dx~1", `a\.git`, `.dx\b`, ".g\u200cit", "\ufeff.dx", ".gi\u200dt:x"} {
		if !ReservedName(n) {
			t.Errorf("%q not reserved", n)
		}
	}
	for _, n := range []string{"git", ".gitignore", ".dxignore", ".dx2", "x.git", ".gi", "dx", "git~2", ".g it", "a\\b", "é.git"} {
		if ReservedName(n) {
			t.Errorf("%q reserved", n)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{".", " ", ":", `\`, "g", "G", "i", "I", "t", "T", "d", "D", "x", "X", "~", "1", "a", "\u200c", "é", "$"}
	reserved := 0
	for range 200000 {
		var b strings.Builder
		for range 1 + rng.IntN(7) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		n := b.String()
		got, want := ReservedName(n), reservedSlow(n)
		if got != want {
			t.Fatalf("%q: %v, the general path says %v", n, got, want)
		}
		if got {
			reserved++
		}
	}
	if reserved == 0 {
		t.Fatal("no random name was reserved: the comparison checks nothing")
	}
}

func BenchmarkReservedName(b *testing.B) {
	names := []string{"f00012.csv", "images", "labels.json", ".gitignore", "part-00003.parquet"}
	for b.Loop() {
		for _, n := range names {
			ReservedName(n)
		}
	}
}
