package dag

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// TestCompareKeysOrder: canonical integers sort by value before all other
// keys, which sort bytewise; the order is total and CompareClassedKeys
// agrees with it.
func TestCompareKeysOrder(t *testing.T) {
	want := []string{"0", "7", "9", "10", "99", "100", "12345678901234567890", "", "-1", "007", "01", "1.5", "10a", "a", "b"}
	got := slices.Clone(want)
	rnd := rand.New(rand.NewPCG(1, 2))
	rnd.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
	slices.SortFunc(got, CompareKeys)
	if !slices.Equal(got, want) {
		t.Fatalf("sorted %q, want %q", got, want)
	}
	for i := 0; i < 2000; i++ {
		a, b := randKey(rnd), randKey(rnd)
		c := CompareKeys(a, b)
		if c != -CompareKeys(b, a) || (c == 0) != (a == b) {
			t.Fatalf("CompareKeys(%q, %q) = %d, reversed %d", a, b, c, CompareKeys(b, a))
		}
		if d := CompareClassedKeys([]byte(a), IntKey([]byte(a)), []byte(b), IntKey([]byte(b))); d != c {
			t.Fatalf("CompareClassedKeys(%q, %q) = %d, CompareKeys %d", a, b, d, c)
		}
	}
}

func randKey(rnd *rand.Rand) string {
	if rnd.IntN(2) == 0 {
		return strconv.Itoa(rnd.IntN(1000))
	}
	b := make([]byte, rnd.IntN(4))
	for i := range b {
		b[i] = "09az"[rnd.IntN(4)]
	}
	return string(b)
}

// TestKeyRangeUnion: the union holds both ranges and nothing less does.
func TestKeyRangeUnion(t *testing.T) {
	a, b := KeyRange{Lo: "5", Hi: "20"}, KeyRange{Lo: "10", Hi: "x"}
	if u := a.Union(b); u != (KeyRange{Lo: "5", Hi: "x"}) {
		t.Fatalf("union %v", u)
	}
	if u := b.Union(a); u != (KeyRange{Lo: "5", Hi: "x"}) {
		t.Fatalf("union %v", u)
	}
}

func TestSubject(t *testing.T) {
	for in, want := range map[string]string{"": "", "one": "one", "  two\nbody\n": "two", "\n\nthree\n": "three"} {
		if got := Subject(in); got != want {
			t.Errorf("Subject(%q) = %q, want %q", in, got, want)
		}
	}
}
