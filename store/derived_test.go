package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// TestDerived: a caller's table of derived data keeps to its prefix, and
// the store's own prefixes are refused.
func TestDerived(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	for _, p := range []byte{pfxObject, pfxPack, pfxRef, pfxHead, pfxLog, pfxLogSeq, pfxKeyRange} {
		if _, err := s.Derived(p); err == nil {
			t.Errorf("Derived(%q) accepted the store's own prefix", p)
		}
	}
	d, err := s.Derived('x')
	if err != nil {
		t.Fatal(err)
	}
	other, _ := s.Derived('y')
	if err := other.Put(ctx, "b", []byte("other")); err != nil {
		t.Fatal(err)
	}
	err = d.Update(ctx, func(b *DerivedBatch) error {
		for _, k := range []string{"c", "a", "b", "d"} {
			if err := b.Set(k, []byte("v"+k)); err != nil {
				return err
			}
		}
		return b.Delete("d")
	})
	if err != nil {
		t.Fatal(err)
	}
	var keys, values []string
	err = d.Scan(ctx, func(k, v []byte) error {
		keys, values = append(keys, string(k)), append(values, string(v))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"a", "b", "c"}) || !slices.Equal(values, []string{"va", "vb", "vc"}) {
		t.Fatalf("scan: keys %q values %q", keys, values)
	}
	var found []string
	err = d.GetSorted(ctx, []string{"0", "a", "bb", "c", "d", "e"}, func(i int, v []byte) {
		found = append(found, fmt.Sprint(i, " ", string(v)))
	})
	if err != nil || !slices.Equal(found, []string{"1 va", "3 vc"}) {
		t.Fatalf("get sorted: %q, %v", found, err)
	}
	var got string
	if ok, err := d.Get(ctx, "b", func(v []byte) error { got = string(v); return nil }); err != nil || !ok || got != "vb" {
		t.Fatalf("get b: %q %v %v", got, ok, err)
	}
	if ok, err := d.Get(ctx, "d", func([]byte) error { return nil }); err != nil || ok {
		t.Fatalf("get d (deleted): %v %v", ok, err)
	}
}
