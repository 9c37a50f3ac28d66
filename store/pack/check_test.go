package pack

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/dxdata/dx/dag"
)

// feed streams b into a new Checker in random pieces and returns the first
// error and whether the checker saw a complete, valid pack. Odd seeds
// check objects on several goroutines (Workers).
func feed(t *testing.T, id dag.ID, footer, b []byte, seed uint64) (bool, error) {
	t.Helper()
	c, err := NewChecker(id, footer)
	if err != nil {
		return false, err
	}
	if seed%2 == 1 {
		c.Workers = 3
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

// forgedPack is a pack whose name is its content's hash but whose objects
// bad (indexes into objs) are stored under the id of other bytes: only
// checking each object finds them.
func forgedPack(t *testing.T, objs []obj, bad ...int) ([]byte, dag.ID, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	comp := NewCompressor()
	for i, o := range objs {
		id := dag.Hash(o.kind, o.data)
		data := o.data
		if slices.Contains(bad, i) {
			data = append([]byte("forged "), o.data...)
		}
		stored, codec := comp.Compress(nil, data)
		if _, err := w.Add(id, o.kind, codec, stored, len(data)); err != nil {
			t.Fatal(err)
		}
	}
	id, footer, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), id, footer
}

// TestCheckerRefusesForgedObject: a pack true to its name holding an
// object that is not what its id says is refused, by the write that
// would complete it at the latest, whether objects are checked in line
// or on other goroutines; with two forged, the first is named.
func TestCheckerRefusesForgedObject(t *testing.T) {
	var objs []obj
	for i := range 200 {
		objs = append(objs, obj{dag.KindChunk, []byte(strings.Repeat(fmt.Sprintf("row %d,value %d\n", i, i*7), 50+i))})
	}
	for _, bad := range [][]int{{0}, {57}, {199}, {120, 30}} {
		b, id, footer := forgedPack(t, objs, bad...)
		first := objs[slices.Min(bad)]
		want := dag.Hash(first.kind, first.data).Short()
		for seed := range uint64(6) {
			ok, err := feed(t, id, footer, b, seed)
			if ok || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "object "+want) {
				t.Fatalf("forged %v, seed %d: complete %v, err %v; want object %s named", bad, seed, ok, err, want)
			}
		}
	}
	// The same objects unforged pass with workers too.
	b, id, footer := forgedPack(t, objs)
	for seed := range uint64(6) {
		if ok, err := feed(t, id, footer, b, seed); !ok || err != nil {
			t.Fatalf("seed %d: complete %v, %v", seed, ok, err)
		}
	}
}
