package store

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dxdata/dx/dag"
)

// TestGCDerived: gc drops the derived entries computed from objects it
// collects, those their table calls of no use, and those whose file is
// gone; of a table in files it deletes a file no entry names, rewrites one mostly dead (its live
// values read back as put) and leaves one mostly alive; a dry run
// reports the same and changes nothing.
func TestGCDerived(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	c1 := commitFile(t, s, "refs/heads/main", "keep", randData(8, 1000), dag.ZeroID)
	c2 := commitFile(t, s, "refs/heads/tmp", "drop", randData(9, 1000), dag.ZeroID)
	keep, drop := entryAt(t, s, c1, "keep").ID, entryAt(t, s, c2, "drop").ID
	if err := s.Transaction(ctx, []RefUpdate{{Name: "refs/heads/tmp", Old: c2}}, nil, "drop"); err != nil {
		t.Fatal(err)
	}
	// Keys: a letter, then the id the value was computed from; "z": of
	// an old encoding.
	names := func(key []byte, fn func(dag.ID)) bool {
		if key[0] == 'z' || len(key) != 1+dag.IDSize {
			return false
		}
		fn(dag.ID(key[1:]))
		return true
	}
	key := func(letter byte, id dag.ID) string { return string(letter) + string(id[:]) }
	plain, err := s.Derived('x')
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Update(ctx, func(b *DerivedBatch) error {
		for _, k := range []string{key('a', keep), key('b', drop), key('z', keep)} {
			if err := b.Set(k, []byte("v")); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Three files: mostly dead, all dead, mostly alive.
	small, big := randData(10, 1000), randData(11, 30_000)
	files := [][]struct {
		k string
		v []byte
	}{
		{{key('a', keep), small}, {key('b', drop), big}},
		{{key('c', drop), big}, {key('z', keep), small}},
		{{key('d', keep), big}, {key('e', drop), small}},
		{{key('f', keep), small}}, // its file deleted
	}
	dir := filepath.Join(s.dir, derivedDir, "79")
	listing := func() []string {
		es, _ := os.ReadDir(dir)
		var out []string
		for _, e := range es {
			out = append(out, e.Name())
		}
		return out
	}
	var made []string // each group's file
	for _, f := range files {
		d, err := s.DerivedFiles('y')
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range f {
			if err := d.Put(ctx, []string{kv.k}, [][]byte{kv.v}); err != nil {
				t.Fatal(err)
			}
		}
		d.Close()
		for _, n := range listing() {
			if !slices.Contains(made, n) {
				made = append(made, n)
			}
		}
	}
	if len(made) != 4 {
		t.Fatalf("%d files of values, want 4", len(made))
	}
	if err := os.Remove(filepath.Join(dir, made[3])); err != nil {
		t.Fatal(err)
	}
	before := listing()
	o := GCOptions{Derived: []DerivedNames{{Prefix: 'x', Names: names}, {Prefix: 'y', Files: true, Names: names}}}
	// Files 1 and 2 but their live value (file 2's "z" is stale).
	wantFreed := int64(2*len(big) + len(small))
	for _, dry := range []bool{true, false} {
		o.DryRun = dry
		rep, err := s.GC(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		// x: b and z; y: b, c, z, e, and f, whose file is gone.
		if rep.DerivedDropped != 7 || rep.DerivedFreed != wantFreed {
			t.Fatalf("dry run %v: dropped %d entries, freed %d bytes; want 7, %d", dry, rep.DerivedDropped, rep.DerivedFreed, wantFreed)
		}
		if dry && !slices.Equal(listing(), before) {
			t.Fatal("a dry run changed the files")
		}
	}
	var left []string
	if err := plain.Scan(ctx, func(k, _ []byte) error { left = append(left, string(k)); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(left, []string{key('a', keep)}) {
		t.Fatalf("plain table keeps %q", left)
	}
	after := listing()
	if len(after) != 2 || !slices.Contains(after, made[2]) || slices.Contains(after, made[0]) || slices.Contains(after, made[1]) {
		t.Fatalf("files %v, made %v: want the mostly alive one kept, the mostly dead one rewritten, the dead one gone", after, made)
	}
	r, _ := s.DerivedFiles('y')
	got := map[string][]byte{}
	ks := []string{key('a', keep), key('b', drop), key('c', drop), key('d', keep), key('e', drop), key('f', keep), key('z', keep)}
	if err := r.Get(ctx, ks, func(i int, v []byte) { got[ks[i]] = slices.Clone(v) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !slices.Equal(got[key('a', keep)], small) || !slices.Equal(got[key('d', keep)], big) {
		t.Fatalf("after gc, %d values read: want a and d as put", len(got))
	}
}
