package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dxdata/dx/internal/blockread"
)

// TestDerivedFiles: values put by two writers read back by key, in any
// order, neighbours in one read, or located once and read in parts; a key never put, a value whose bytes
// changed and a value whose file is gone are misses; closed, a writer
// writes no more; a read-only store writes nothing.
func TestDerivedFiles(t *testing.T) {
	ctx := context.Background()
	s, dir := newStore(t)
	value := func(k string) []byte { return []byte(fmt.Sprintf("value of %s %0*d", k, rand.IntN(3000), 0)) }
	var keys []string
	want := map[string]string{}
	for w := range 2 {
		d, err := s.DerivedFiles('x')
		if err != nil {
			t.Fatal(err)
		}
		for batch := range 5 {
			var ks []string
			var vs [][]byte
			for i := range 40 {
				k := fmt.Sprintf("k%d-%d-%d", w, batch, i)
				ks, vs = append(ks, k), append(vs, value(k))
				want[k] = string(vs[len(vs)-1])
			}
			if err := d.Put(ctx, ks, vs); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, ks...)
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		if err := d.Put(ctx, []string{"late"}, [][]byte{[]byte("v")}); err == nil {
			t.Fatal("a closed writer wrote")
		}
	}
	keys = append(keys, "never put")
	rand.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	get := func() (map[string]string, int64) {
		d, _ := s.DerivedFiles('x')
		got := map[string]string{}
		if err := d.Get(ctx, keys, func(i int, v []byte) {
			if _, dup := got[keys[i]]; dup {
				t.Fatalf("%s read twice", keys[i])
			}
			got[keys[i]] = string(v)
		}); err != nil {
			t.Fatal(err)
		}
		n, _ := d.Read()
		return got, n
	}
	got, reads := get()
	if len(got) != len(want) {
		t.Fatalf("%d values read, want %d", len(got), len(want))
	}
	for k, v := range got {
		if want[k] != v {
			t.Fatalf("%s: %q, want %q", k, v, want[k])
		}
	}
	// 400 values of ~1.5 KB in two files: a read a file.
	if reads != 2 {
		t.Fatalf("%d reads for two files of neighbouring values", reads)
	}
	// Located once, read in parts.
	d, _ := s.DerivedFiles('x')
	l, err := d.Locate(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	if set := l.Set(); len(set) != len(keys) || len(slices.DeleteFunc(set, func(b bool) bool { return !b })) != len(want) {
		t.Fatalf("%d keys said set, want %d", len(set), len(want))
	}
	n := 0
	for from := 0; from < len(keys); from += 37 {
		var idx []int
		for i := from; i < min(from+37, len(keys)); i++ {
			idx = append(idx, i)
		}
		if err := l.Get(ctx, idx, func(j int, v []byte) {
			if k := keys[idx[j]]; want[k] != string(v) {
				t.Fatalf("%s: %q, want %q", k, v, want[k])
			}
			n++
		}); err != nil {
			t.Fatal(err)
		}
	}
	if n != len(want) {
		t.Fatalf("%d values read in parts, want %d", n, len(want))
	}
	files, _ := filepath.Glob(filepath.Join(dir, derivedDir, "78", "*"))
	if len(files) != 2 {
		t.Fatalf("files %v, want one per writer", files)
	}
	// A byte changed in the first file: the value holding it is a miss.
	f, err := os.OpenFile(files[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xff}, 100); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got, _ := get(); len(got) != len(want)-1 {
		t.Fatalf("%d values read with one corrupt, want %d", len(got), len(want)-1)
	}
	if err := os.Remove(files[0]); err != nil {
		t.Fatal(err)
	}
	if got, _ := get(); len(got) != len(want)/2 {
		t.Fatalf("%d values read with a file gone, want %d", len(got), len(want)/2)
	}

	s.Close()
	ro, err := Open(ctx, dir, Options{Access: ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	d, _ = ro.DerivedFiles('x')
	if err := d.Put(ctx, []string{"ro"}, [][]byte{[]byte("v")}); err != nil {
		t.Fatal(err)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, derivedDir, "78", "*")); len(files) != 1 {
		t.Fatalf("a read-only store wrote a file: %v", files)
	}
}

// TestDerivedFilesCold: the values of a big file the page cache does not
// hold (read straight from the disk where the kernel allows) read back
// as put, every one, neighbours or scattered.
func TestDerivedFilesCold(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	d, err := s.DerivedFiles('y')
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	want := map[string][]byte{}
	var keys []string
	for batch := range 30 {
		var ks []string
		var vs [][]byte
		for i := range 100 {
			k := fmt.Sprintf("k%d-%d", batch, i)
			v := make([]byte, 1+rng.IntN(4000))
			for j := range v {
				v[j] = byte(rng.Uint32())
			}
			ks, vs, want[k] = append(ks, k), append(vs, v), v
		}
		if err := d.Put(ctx, ks, vs); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, ks...)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(d.dir, "*"))
	if len(files) != 1 {
		t.Fatalf("%d files of values, want 1", len(files))
	}
	if fi, err := os.Stat(files[0]); err != nil || fi.Size() < derivedDirectFrom {
		t.Fatalf("a file of %v bytes: not past %d", fi.Size(), derivedDirectFrom)
	}
	for round := range 2 {
		f, err := os.Open(files[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := blockread.Evict(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
		// All, then one key in three, shuffled.
		ks := slices.Clone(keys)
		if round == 1 {
			ks = slices.DeleteFunc(ks, func(string) bool { return rng.IntN(3) != 0 })
			rng.Shuffle(len(ks), func(i, j int) { ks[i], ks[j] = ks[j], ks[i] })
		}
		r, _ := s.DerivedFiles('y')
		n := 0
		if err := r.Get(ctx, ks, func(i int, v []byte) {
			n++
			if !slices.Equal(v, want[ks[i]]) {
				t.Fatalf("%s: %d bytes differ from the %d put", ks[i], len(v), len(want[ks[i]]))
			}
		}); err != nil {
			t.Fatal(err)
		}
		if n != len(ks) {
			t.Fatalf("round %d: %d values read of %d", round, n, len(ks))
		}
	}
}
