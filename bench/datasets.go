package main

// The three datasets and how each is written, changed and checked.

import (
	"crypto/sha256"
	"fmt"
	"io"
	"path/filepath"
)

// genInfo describes one generated version of a dataset.
type genInfo struct {
	Bytes int64
	Files int
	Edits string // for v2: what changed relative to v1
	// Rows edited, for tables: what a row diff must report.
	RowsAdded, RowsChanged, RowsRemoved int64
}

// dataset knows how to write v1 of some data under a root directory, how
// to turn it into v2 in place, and what the v2 tree must hash to.
type dataset struct {
	name  string // short id: table, small, many, big
	title string
	// top-level entries (relative to a root) holding the data
	paths []string
	// peers run on it (the big file is only a memory check for dx)
	withPeers bool
	// skipPeers leaves these peers out (withPeers).
	skipPeers map[string]bool
	// noRemote leaves it out of the remote benchmark.
	noRemote bool
	genV1    func(root string) (genInfo, error)
	applyV2  func(root string) (genInfo, error) // nil: no second version
	// expectV2 returns sha256 of every v2 file, keyed by slash path
	expectV2 func() (map[string][32]byte, error)
	// attributes, if set, is written to .dxattributes before dx's first
	// commit: the row diff is then measured between the two versions.
	attributes string
	// For the merge measurement (tables): write v1 with the updates of
	// branch one and/or two into root, and hash v1 with both applied.
	writeBranches func(root string, one, two bool) (TableStats, error)
	hashMerged    func() ([32]byte, error)
	tablePath     string
}

func tableDataset(seed uint64, size int64) *dataset {
	ds := newTableDataset(seed, size, 0)
	ds.name, ds.withPeers = "table", true
	ds.title = fmt.Sprintf("Table: one CSV file, %s, ~100-byte rows", human(size))
	return ds
}

// doltBranchRows is how many rows each branch of the Dolt-scale merge
// updates, as in Dolt's reference figure.
const doltBranchRows = 200

// doltDataset is the table at the size of Dolt's reference figures (a
// 134 MB table; theirs has 2M rows of ~67 bytes, this one ~1.2M of ~110),
// so that dx's row diff and merge are compared with them at the same
// scale: the same 2% change between v1 and v2, and ~200 disjoint row
// updates on each of the two merged branches. dx only, no remote.
func doltDataset(seed uint64, size int64) *dataset {
	rows := max(1, size/110)
	ds := newTableDataset(seed, size, uint64(max(3, rows/doltBranchRows)))
	ds.name = "dolt"
	ds.title = fmt.Sprintf("Dolt scale: one CSV file, %s, ~100-byte rows (Dolt's reference table is 134 MB)", human(size))
	return ds
}

// newTableDataset is a CSV table of size bytes whose merge branches each
// update 1 in branchMod rows (0: 0.01%).
func newTableDataset(seed uint64, size int64, branchMod uint64) *dataset {
	const rel = "table.csv"
	return &dataset{
		paths:      []string{rel},
		attributes: "*.csv table=csv key=id\n",
		tablePath:  rel,
		writeBranches: func(root string, one, two bool) (st TableStats, err error) {
			err = writeStream(filepath.Join(root, rel), func(w io.Writer) (err error) {
				st, err = WriteTableBranches(w, seed, size, branchMod, one, two)
				return err
			})
			return st, err
		},
		hashMerged: func() ([32]byte, error) {
			return hashStream(func(w io.Writer) error {
				_, err := WriteTableBranches(w, seed, size, branchMod, true, true)
				return err
			})
		},
		genV1: func(root string) (genInfo, error) {
			var st TableStats
			err := writeStream(filepath.Join(root, rel), func(w io.Writer) (err error) {
				st, err = WriteTable(w, seed, size, false)
				return err
			})
			return genInfo{Bytes: st.Bytes, Files: 1, Edits: fmt.Sprintf("%d rows", st.Rows)}, err
		},
		applyV2: func(root string) (genInfo, error) {
			var st TableStats
			err := writeStream(filepath.Join(root, rel), func(w io.Writer) (err error) {
				st, err = WriteTable(w, seed, size, true)
				return err
			})
			return genInfo{Bytes: st.Bytes, Files: 1, Edits: fmt.Sprintf(
				"%d rows: %d appended, %d updated (amount+note), %d deleted (of %d v1 rows)",
				st.Rows, st.Appended, st.Updated, st.Deleted, st.BaseRows),
				RowsAdded: st.Appended, RowsChanged: st.Updated, RowsRemoved: st.Deleted}, err
		},
		expectV2: func() (map[string][32]byte, error) {
			sum, err := hashStream(func(w io.Writer) error {
				_, err := WriteTable(w, seed, size, true)
				return err
			})
			return map[string][32]byte{rel: sum}, err
		},
	}
}

func smallDataset(seed uint64, files int) *dataset {
	return smallFilesDataset("small", fmt.Sprintf("Small files: %d files of 1–50 KiB, half text, half binary", files), SmallSpec{Seed: seed, Files: files})
}

// manyDataset is a worktree of many tiny files (an image or label set's
// shape): what dx costs per file, beside restic and borg (git-lfs takes
// minutes to add this many files and is left out). No remote run.
func manyDataset(seed uint64, files int) *dataset {
	spec := SmallSpec{Seed: seed, Files: files, Dir: "many", MinSize: 200, MaxSize: 4 << 10}
	ds := smallFilesDataset("many", fmt.Sprintf("Many files: %d files of 0.2–4 KiB, half text, half binary", files), spec)
	ds.skipPeers = map[string]bool{"git-lfs": true}
	ds.noRemote = true
	return ds
}

// smallFilesDataset is a dataset of the small files spec describes.
func smallFilesDataset(name, title string, spec SmallSpec) *dataset {
	return &dataset{
		name:      name,
		title:     title,
		paths:     []string{spec.dir()},
		withPeers: true,
		genV1: func(root string) (genInfo, error) {
			st, err := spec.WriteSmall(root)
			return genInfo{Bytes: st.Bytes, Files: st.Files}, err
		},
		applyV2: func(root string) (genInfo, error) {
			st, err := spec.ApplySmallV2(root)
			return genInfo{Bytes: st.Bytes, Files: st.Files,
				Edits: fmt.Sprintf("%d files changed (small edit inside), %d added", st.Changed, st.Added)}, err
		},
		expectV2: func() (map[string][32]byte, error) {
			m := map[string][32]byte{}
			_, err := spec.eachSmall(true, func(_ int, rel string, data []byte) error {
				m[filepath.ToSlash(rel)] = sha256.Sum256(data)
				return nil
			})
			return m, err
		},
	}
}

func bigDataset(seed uint64, size int64) *dataset {
	const rel = "big.dat"
	return &dataset{
		name:  "big",
		title: fmt.Sprintf("Big file: one %s file, mixed text/binary (peak-RSS check)", human(size)),
		paths: []string{rel},
		genV1: func(root string) (genInfo, error) {
			err := writeStream(filepath.Join(root, rel), func(w io.Writer) error {
				return WriteBig(w, seed, size)
			})
			return genInfo{Bytes: size, Files: 1}, err
		},
	}
}

// human formats a byte count with binary units.
func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
