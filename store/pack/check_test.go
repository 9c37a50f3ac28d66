package pack

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/dxdata/dx/dag"
)

// feed streams b into a new Checker in random pieces and returns the first
// error and whether the checker saw a complete, valid pack.
func feed(t *testing.T, id dag.ID, footer, b []byte, seed uint64) (bool, error) {
	t.Helper()
	c, err := NewChecker(id, footer)
	if err != nil {
		return false, err
	}
	r := rand.New(rand.NewPCG(seed, 1))
	for len(b) > 0 {
		n := min(len(b), 1+r.IntN(300))
		if _, err := c.Write(b[:n]); err != nil {
			return false, err
		}
		b = b[n:]
	}
	return c.Complete(), nil
}

func TestCheckerAcceptsPackInAnyPieces(t *testing.T) {
	b, id, entries := buildPack(t, testObjects())
	footer := EncodeIndex(entries)
	c, _ := NewChecker(id, footer)
	if c.Size() != int64(len(b)) {
		t.Fatalf("Size %d, pack is %d bytes", c.Size(), len(b))
	}
	var seen []dag.ID
	c.OnObject = func(e Entry, raw []byte) error {
		if dag.Hash(e.Kind, raw) != e.ID {
			t.Fatalf("OnObject got bytes of another object")
		}
		seen = append(seen, e.ID)
		return nil
	}
	if _, err := c.Write(b); err != nil || !c.Complete() {
		t.Fatalf("whole pack: complete %v, %v", c.Complete(), err)
	}
	if len(seen) != len(entries) {
		t.Fatalf("OnObject saw %d objects, want %d", len(seen), len(entries))
	}
	for seed := range uint64(20) {
		if ok, err := feed(t, id, footer, b, seed); !ok || err != nil {
			t.Fatalf("seed %d: complete %v, %v", seed, ok, err)
		}
	}
}

func TestCheckerRefusesDamage(t *testing.T) {
	b, id, entries := buildPack(t, testObjects())
	footer := EncodeIndex(entries)
	for i := range b {
		bad := append([]byte(nil), b...)
		bad[i] ^= 0x20
		ok, err := feed(t, id, footer, bad, uint64(i))
		if ok || !errors.Is(err, ErrCorrupt) {
			t.Fatalf("byte %d flipped: complete %v, err %v", i, ok, err)
		}
	}
	// Truncated: never complete, and no error until the end is missed.
	if ok, err := feed(t, id, footer, b[:len(b)-1], 1); ok || err != nil {
		t.Fatalf("truncated: complete %v, err %v", ok, err)
	}
	// Longer than the index says.
	if _, err := feed(t, id, footer, append(append([]byte(nil), b...), 0), 1); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("extended: err %v", err)
	}
	// Announced with another pack's index.
	other := append([]Entry(nil), entries...)
	other[0].ID[0] ^= 1
	if ok, err := feed(t, id, EncodeIndex(other), b, 1); ok || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("wrong index: complete %v, err %v", ok, err)
	}
}
