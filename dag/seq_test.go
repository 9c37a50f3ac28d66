package dag

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

func fileEntry(i int, version byte) TreeEntry {
	return TreeEntry{Name: fmt.Sprintf("f%07d.bin", i), Mode: ModeFile,
		ID: Hash(KindChunk, []byte{byte(i), byte(i >> 8), byte(i >> 16), version}), Size: uint64(i % 977)}
}

func buildTree(t *testing.T, s *memStore, entries []TreeEntry) ID {
	t.Helper()
	tb := NewTreeBuilder(context.Background(), s)
	for _, e := range entries {
		if err := tb.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	id, _, err := tb.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func genEntries(n int) []TreeEntry {
	out := make([]TreeEntry, n)
	for i := range out {
		out[i] = fileEntry(i, 0)
	}
	return out
}

func TestTreeSequenceRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{0, 1, 2, 511, 512, 5000, 100_000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := newMem()
			entries := genEntries(n)
			id := buildTree(t, s, entries)
			got, err := ReadTree(ctx, s, id)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != n {
				t.Fatalf("read %d entries, want %d", len(got), n)
			}
			for i := range got {
				if got[i] != entries[i] {
					t.Fatalf("entry %d differs", i)
				}
			}
			// Same entries, same ID: the shape is canonical.
			if again := buildTree(t, newMem(), entries); again != id {
				t.Fatal("rebuilding the same entries gave another ID")
			}
			// Lookups read only the path to the entry.
			for _, i := range []int{0, n / 2, n - 1} {
				if n == 0 {
					break
				}
				e, err := LookupEntry(ctx, s, id, entries[i].Name)
				if err != nil || e != entries[i] {
					t.Fatalf("lookup %d: %v %v", i, e, err)
				}
			}
			if _, err := LookupEntry(ctx, s, id, "zzz-missing"); err == nil {
				t.Fatal("lookup of a missing name succeeded")
			}
		})
	}
}

// TestMillionEntryDirectory is the scale property of issue 2, counted at the
// library level: one changed file in a directory of 1,000,000 files writes
// well under 1 MiB of new metadata, and a diff reads fewer than 100 objects.
func TestMillionEntryDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 1,000,000-entry tree")
	}
	ctx := context.Background()
	s := newMem()
	entries := genEntries(1_000_000)
	a := buildTree(t, s, entries)
	r := rand.New(rand.NewPCG(1, 2))
	i := r.IntN(len(entries))
	entries[i] = fileEntry(i, 1)
	s.resetCounts()
	b := buildTree(t, s, entries)
	if s.newByte >= 1<<20 {
		t.Fatalf("changing one entry wrote %d bytes of new tree nodes, want < 1 MiB", s.newByte)
	}
	t.Logf("one change in 1M entries: %d new bytes of tree nodes", s.newByte)
	s.resetCounts()
	var changes []string
	err := DiffTrees(ctx, s, a, b, func(p string, x, y *TreeEntry) error {
		if x == nil || y == nil {
			t.Fatalf("unexpected add/remove of %s", p)
		}
		changes = append(changes, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0] != entries[i].Name {
		t.Fatalf("diff = %v, want [%s]", changes, entries[i].Name)
	}
	if s.reads >= 100 {
		t.Fatalf("diff read %d objects, want < 100", s.reads)
	}
	t.Logf("diff read %d objects", s.reads)
}

// TestDiffDirMatchesBruteForce checks the skipping diff against a plain
// comparison of full entry lists under random edits.
func TestDiffDirMatchesBruteForce(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(0); seed < 20; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			s := newMem()
			n := 1 + r.IntN(20000)
			a := genEntries(n)
			var b []TreeEntry
			for i, e := range a {
				switch x := r.IntN(1000); {
				case x < 3: // delete
				case x < 6: // modify
					b = append(b, fileEntry(i, 2))
				case x < 9: // insert after
					b = append(b, e)
					b = append(b, TreeEntry{Name: e.Name + "+", Mode: ModeExec, ID: e.ID, Size: 1})
				default:
					b = append(b, e)
				}
			}
			ia, ib := buildTree(t, s, a), buildTree(t, s, b)
			want := bruteDiff(a, b)
			var got []string
			err := DiffDir(ctx, s, ia, ib, func(x, y *TreeEntry) error {
				got = append(got, describe(x, y))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("diff mismatch:\n got %v\nwant %v", got, want)
			}
		})
	}
}

func describe(x, y *TreeEntry) string {
	switch {
	case x == nil:
		return "+" + y.Name
	case y == nil:
		return "-" + x.Name
	}
	return "~" + x.Name
}

func bruteDiff(a, b []TreeEntry) []string {
	var out []string
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].Name < b[j].Name):
			out = append(out, "-"+a[i].Name)
			i++
		case i == len(a) || a[i].Name > b[j].Name:
			out = append(out, "+"+b[j].Name)
			j++
		default:
			if a[i] != b[j] {
				out = append(out, "~"+a[i].Name)
			}
			i++
			j++
		}
	}
	return out
}

func TestFileSequence(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{0, 1, 1000, 50_000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := newMem()
			fb := NewFileBuilder(ctx, s)
			var want []ChunkRef
			var size uint64
			for i := 0; i < n; i++ {
				c := ChunkRef{ID: Hash(KindChunk, []byte(fmt.Sprint(i))), Len: uint32(1 + i%65536)}
				want = append(want, c)
				size += uint64(c.Len)
				if err := fb.Add(c); err != nil {
					t.Fatal(err)
				}
			}
			id, gotSize, err := fb.Finish()
			if err != nil || gotSize != size {
				t.Fatalf("finish: size %d want %d, %v", gotSize, size, err)
			}
			var got []ChunkRef
			if err := WalkFile(ctx, s, id, func(c ChunkRef) error { got = append(got, c); return nil }); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatal("chunk list differs after round trip")
			}
		})
	}
}

func TestRecursiveDiffExpandsDirectories(t *testing.T) {
	ctx := context.Background()
	s := newMem()
	leaf := buildTree(t, s, []TreeEntry{fileEntry(1, 0), fileEntry(2, 0)})
	a := buildTree(t, s, []TreeEntry{{Name: "d", Mode: ModeDir, ID: leaf}, fileEntry(9, 0)})
	b := buildTree(t, s, []TreeEntry{{Name: "d", Mode: ModeFile, ID: fileEntry(3, 0).ID}, fileEntry(9, 1)})
	var got []string
	err := DiffTrees(ctx, s, a, b, func(p string, x, y *TreeEntry) error {
		got = append(got, fmt.Sprintf("%s:%v:%v", p, x != nil, y != nil))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"d/f0000001.bin:true:false", "d/f0000002.bin:true:false", "d:false:true", "f0000009.bin:true:true"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v want %v", got, want)
	}
}

// prefetchingMem is a memStore that records the prefetches WalkFile asks
// of it, and the order of its reads.
type prefetchingMem struct {
	*memStore
	prefetched map[ID]bool
	early      int // objects read without a prefetch first
}

func (m *prefetchingMem) Prefetch(_ context.Context, ids []ID) {
	for _, id := range ids {
		m.prefetched[id] = true
	}
}

func (m *prefetchingMem) Get(ctx context.Context, k Kind, id ID) ([]byte, error) {
	if !m.prefetched[id] {
		m.early++
	}
	return m.memStore.Get(ctx, k, id)
}

// TestWalkFilePrefetchesChildren: a Getter that prefetches is asked for
// every node below the root before it is read, each once, and the walk
// lists the same chunks.
func TestWalkFilePrefetchesChildren(t *testing.T) {
	ctx := context.Background()
	s := &prefetchingMem{memStore: newMem(), prefetched: map[ID]bool{}}
	fb := NewFileBuilder(ctx, s)
	var want []ChunkRef
	for i := range 50_000 {
		c := ChunkRef{ID: Hash(KindChunk, []byte(fmt.Sprint(i))), Len: uint32(1 + i%1000)}
		want = append(want, c)
		if err := fb.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	id, _, err := fb.Finish()
	if err != nil {
		t.Fatal(err)
	}
	nodes := 0
	if err := FileNodes(ctx, s.memStore, id, func(ID, *FileNode) error { nodes++; return nil }); err != nil {
		t.Fatal(err)
	}
	s.resetCounts()
	var got []ChunkRef
	if err := WalkFile(ctx, s, id, func(c ChunkRef) error { got = append(got, c); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatal("the walk lists other chunks")
	}
	if nodes < 3 || s.reads != nodes || s.early != 1 || len(s.prefetched) != nodes-1 {
		t.Fatalf("%d nodes: %d read, %d before their prefetch (want only the root), %d prefetched", nodes, s.reads, s.early, len(s.prefetched))
	}
}
