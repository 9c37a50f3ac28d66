package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func tableBytes(t *testing.T, seed uint64, target int64, v2 bool) ([]byte, TableStats) {
	t.Helper()
	var b bytes.Buffer
	st, err := WriteTable(&b, seed, target, v2)
	if err != nil {
		t.Fatal(err)
	}
	if int64(b.Len()) != st.Bytes {
		t.Fatalf("stats say %d bytes, wrote %d", st.Bytes, b.Len())
	}
	return b.Bytes(), st
}

// parseTable returns id -> row and checks the header and that ids are
// strictly increasing (hence unique).
func parseTable(t *testing.T, data []byte) (map[int64]string, []int64) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(data))
	if !sc.Scan() || sc.Text()+"\n" != tableHeader {
		t.Fatalf("bad header %q", sc.Text())
	}
	rows := map[int64]string{}
	var ids []int64
	prev := int64(0)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Split(line, ",")
		if len(f) != 7 {
			t.Fatalf("row has %d fields: %q", len(f), line)
		}
		id, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		if id <= prev {
			t.Fatalf("id %d after %d: ids not strictly increasing", id, prev)
		}
		prev = id
		rows[id] = line
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows, ids
}

func TestTableDeterministic(t *testing.T) {
	a, sa := tableBytes(t, 42, 2<<20, false)
	b, sb := tableBytes(t, 42, 2<<20, false)
	if !bytes.Equal(a, b) || sa != sb {
		t.Fatal("same seed gave different v1 tables")
	}
	c, _ := tableBytes(t, 43, 2<<20, false)
	if bytes.Equal(a, c) {
		t.Fatal("different seeds gave the same table")
	}
	a2, _ := tableBytes(t, 42, 2<<20, true)
	b2, _ := tableBytes(t, 42, 2<<20, true)
	if !bytes.Equal(a2, b2) {
		t.Fatal("same seed gave different v2 tables")
	}
	if avg := float64(sa.Bytes) / float64(sa.Rows); avg < 85 || avg > 125 {
		t.Fatalf("average row is %.1f bytes, want ~100", avg)
	}
	if sa.Bytes < 2<<20 || sa.Bytes > 2<<20+200 {
		t.Fatalf("v1 is %d bytes, want just over %d", sa.Bytes, 2<<20)
	}
}

func TestTableV2Edits(t *testing.T) {
	const target = 40 << 20 // ~420k rows: ~42 updates, ~21 deletes expected
	v1, s1 := tableBytes(t, 7, target, false)
	v2, s2 := tableBytes(t, 7, target, true)
	r1, ids1 := parseTable(t, v1)
	r2, _ := parseTable(t, v2)
	n := int64(len(ids1))
	if n != s1.Rows || s2.BaseRows != n || ids1[0] != 1 || ids1[n-1] != n {
		t.Fatalf("v1 ids should be 1..%d (stats rows %d, v2 base %d)", n, s1.Rows, s2.BaseRows)
	}
	var updated, deleted, appended int64
	for id, row := range r1 {
		row2, ok := r2[id]
		switch {
		case !ok:
			deleted++
		case row2 != row:
			updated++
			f1, f2 := strings.Split(row, ","), strings.Split(row2, ",")
			if strings.Join(f1[:4], ",") != strings.Join(f2[:4], ",") || f1[5] != f2[5] {
				t.Fatalf("update changed more than amount and note:\n%s\n%s", row, row2)
			}
			if f1[4] == f2[4] && f1[6] == f2[6] {
				t.Fatalf("update changed nothing: %s", row)
			}
		}
	}
	for id := range r2 {
		if _, ok := r1[id]; !ok {
			if id <= n {
				t.Fatalf("new row id %d reuses the v1 id range", id)
			}
			appended++
		}
	}
	if want := int64(math.Ceil(float64(n) * tableAppendFrac)); appended != want || s2.Appended != want {
		t.Fatalf("appended %d (stats %d), want %d", appended, s2.Appended, want)
	}
	if updated != s2.Updated || deleted != s2.Deleted {
		t.Fatalf("counted %d updated / %d deleted, stats say %d / %d", updated, deleted, s2.Updated, s2.Deleted)
	}
	wantU, wantD := float64(n)/tableUpdateMod, float64(n)/tableDeleteMod
	if float64(updated) < wantU/2 || float64(updated) > wantU*2 {
		t.Fatalf("updated %d rows, want ~%.0f", updated, wantU)
	}
	if float64(deleted) < wantD/2.5 || float64(deleted) > wantD*2.5 {
		t.Fatalf("deleted %d rows, want ~%.0f", deleted, wantD)
	}
	// Edits are scattered, not clustered at one end.
	var lo, hi int
	for id := range r1 {
		if _, ok := r2[id]; !ok || r2[id] != r1[id] {
			if id < n/2 {
				lo++
			} else {
				hi++
			}
		}
	}
	if lo == 0 || hi == 0 {
		t.Fatalf("edits not scattered: %d in first half, %d in second", lo, hi)
	}
	t.Logf("rows %d: updated %d, deleted %d, appended %d; v1 %d bytes, v2 %d bytes",
		n, updated, deleted, appended, s1.Bytes, s2.Bytes)
}

// TestTableAllUpdated: the table of the UI's big row diff has exactly
// the rows asked for, and v2 changes the amount or note of every one of
// them, nothing else, keeping the ids.
func TestTableAllUpdated(t *testing.T) {
	const rows = 5000
	var versions [2][]byte
	for i, v2 := range []bool{false, true} {
		var b bytes.Buffer
		st, err := WriteTableAllUpdated(&b, 7, rows, v2)
		if err != nil || st.Bytes != int64(b.Len()) || st.Rows != rows {
			t.Fatalf("v2 %v: %+v for %d bytes, %v", v2, st, b.Len(), err)
		}
		versions[i] = b.Bytes()
	}
	r1, ids := parseTable(t, versions[0])
	r2, ids2 := parseTable(t, versions[1])
	if len(ids) != rows || len(ids2) != rows || ids[rows-1] != rows {
		t.Fatalf("%d and %d rows, want ids 1..%d", len(ids), len(ids2), rows)
	}
	for id, row := range r1 {
		f1, f2 := strings.Split(row, ","), strings.Split(r2[id], ",")
		if strings.Join(f1[:4], ",") != strings.Join(f2[:4], ",") || f1[5] != f2[5] || f1[4] == f2[4] && f1[6] == f2[6] {
			t.Fatalf("row %d not updated in amount or note alone:\n%s\n%s", id, row, r2[id])
		}
	}
}

func treeHashes(t *testing.T, root string) map[string][32]byte {
	t.Helper()
	m := map[string][32]byte{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		m[rel] = sha256.Sum256(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestManyFiles: the many-files spec writes its files under its own
// directory, within its size bounds.
func TestManyFiles(t *testing.T) {
	spec := SmallSpec{Seed: 11, Files: 300, Dir: "many", MinSize: 200, MaxSize: 4 << 10}
	dir := t.TempDir()
	st, err := spec.WriteSmall(dir)
	if err != nil {
		t.Fatal(err)
	}
	hashes := treeHashes(t, dir)
	if len(hashes) != 300 || st.Files != 300 {
		t.Fatalf("got %d files (stats %d), want 300", len(hashes), st.Files)
	}
	for rel := range hashes {
		fi, err := os.Stat(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(rel, "many/") || fi.Size() < 200 || fi.Size() > 4<<10 {
			t.Fatalf("%s: %d bytes, want 200 B to 4 KiB under many/", rel, fi.Size())
		}
	}
}

func TestSmallFiles(t *testing.T) {
	spec := SmallSpec{Seed: 11, Files: 500}
	a, b := t.TempDir(), t.TempDir()
	sa, err := spec.WriteSmall(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := spec.WriteSmall(b); err != nil {
		t.Fatal(err)
	}
	ha, hb := treeHashes(t, a), treeHashes(t, b)
	if len(ha) != 500 || sa.Files != 500 {
		t.Fatalf("got %d files (stats %d), want 500", len(ha), sa.Files)
	}
	for k, v := range ha {
		if hb[k] != v {
			t.Fatalf("%s differs between two runs with the same seed", k)
		}
	}
	if mean := sa.Bytes / int64(sa.Files); mean < 14<<10 || mean > 27<<10 {
		t.Fatalf("mean file size %d, want ~20 KiB", mean)
	}

	s2, err := spec.ApplySmallV2(a)
	if err != nil {
		t.Fatal(err)
	}
	h2 := treeHashes(t, a)
	if len(h2) != 505 || s2.Files != 505 || s2.Added != 5 || s2.Changed != 10 {
		t.Fatalf("v2: %d files, stats %+v; want 505 files, 10 changed, 5 added", len(h2), s2)
	}
	changed := 0
	for k, v := range hb {
		if h2[k] != v {
			changed++
		}
	}
	if changed != 10 {
		t.Fatalf("%d files changed, want 10", changed)
	}
	// eachSmall(v2) must describe exactly the tree ApplySmallV2 produced.
	var total int64
	_, err = spec.eachSmall(true, func(_ int, rel string, data []byte) error {
		if sha256.Sum256(data) != h2[rel] {
			t.Errorf("expected-v2 content of %s differs from the tree", rel)
		}
		total += int64(len(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total != s2.Bytes {
		t.Fatalf("v2 bytes %d, stats %d", total, s2.Bytes)
	}
}

func TestBigDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := WriteBig(&a, 5, 5<<20+123); err != nil {
		t.Fatal(err)
	}
	if err := WriteBig(&b, 5, 5<<20+123); err != nil {
		t.Fatal(err)
	}
	if a.Len() != 5<<20+123 || !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatalf("big file not deterministic or wrong size (%d)", a.Len())
	}
}

func BenchmarkTable(b *testing.B) {
	b.SetBytes(64 << 20)
	for i := 0; i < b.N; i++ {
		if _, err := WriteTable(io.Discard, 1, 64<<20, true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBig(b *testing.B) {
	b.SetBytes(64 << 20)
	for i := 0; i < b.N; i++ {
		if err := WriteBig(io.Discard, 1, 64<<20); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSmall(b *testing.B) {
	spec := SmallSpec{Seed: 1, Files: 2000}
	var n int64
	for i := 0; i < b.N; i++ {
		st, _ := spec.eachSmall(true, func(int, string, []byte) error { return nil })
		n = st.Bytes
	}
	b.SetBytes(n)
}
