package main

// The shared-extents worktree benchmark (issue 23): the table's worktree
// on a file system that shares extents (XFS, reflink on, in a loop
// image), dx checkout between the table and an update of 0.01% of its
// rows in place (the same length: the bytes around each edit do not
// move), page cache dropped before each, beside cp of the file, both with
// the extents shared (cp's default, reflink=auto) and copied.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ExtentResult is the shared-extents worktree benchmark.
type ExtentResult struct {
	// Switch: dx checkout between the table and its update, and cp of
	// the file (reflink=auto: the extents shared).
	Switch *SwitchResult `json:"switch,omitempty"`
	// RowsEdited: rows whose amount changed in place.
	RowsEdited int `json:"rows_edited"`
	// CopySeconds: cp --reflink=never of the file.
	CopySeconds []float64 `json:"copy_seconds,omitempty"`
	CopyMedian  float64   `json:"copy_median_seconds"`
	Error       string    `json:"error,omitempty"`
}

const (
	// editEvery: one row in this many is updated in place (0.01%).
	editEvery = 10000
	// targetExtentSeconds bounds that checkout where extents are shared.
	targetExtentSeconds = 0.3
	targetExtents       = "worktree on XFS (extents shared): checkout between the table and a 0.01% update in place < 0.3 s"
)

// extentSwitch copies the table at rel in repo onto a fresh XFS file
// system, commits it and an update of 0.01% of its rows in place, and
// times dx checkout between the two and cp of the file.
func (b *bench) extentSwitch(repo, rel string) *ExtentResult {
	res := &ExtentResult{}
	fail := func(format string, args ...any) *ExtentResult {
		res.Error = fmt.Sprintf(format, args...)
		logf("  shared extents: %s", res.Error)
		return res
	}
	src := filepath.Join(repo, filepath.FromSlash(rel))
	fi, err := os.Stat(src)
	if err != nil {
		return fail("%v", err)
	}
	base := filepath.Dir(repo)
	img, mnt := filepath.Join(base, "xfs.img"), filepath.Join(base, "xfs")
	// Room for two versions of the file, its store and XFS's own.
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		return fail("%v", err)
	}
	defer os.Remove(img)
	if err := os.Truncate(img, 3*fi.Size()+1<<30); err != nil {
		return fail("%v", err)
	}
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		return fail("%v", err)
	}
	defer os.Remove(mnt)
	if r := b.rn.run(base, nil, "mkfs.xfs", "-q", "-m", "reflink=1", img); r.Err != nil {
		return fail("mkfs.xfs (bench/install-peers.sh installs it): %s", r.errLine())
	}
	if r := b.rn.run(base, nil, "mount", "-o", "loop", img, mnt); r.Err != nil {
		return fail("mount of an XFS loop image (needs root): %s", r.errLine())
	}
	defer b.rn.run(base, nil, "umount", mnt)

	w := filepath.Join(mnt, "w")
	dst := filepath.Join(w, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fail("%v", err)
	}
	if r := b.rn.run(base, nil, "cp", "--reflink=never", src, dst); r.Err != nil {
		return fail("cp: %s", r.errLine())
	}
	for _, args := range [][]string{{"init"}, {"commit", "--quiet", "-m", "table"}} {
		if r := b.rn.run(w, nil, b.cfg.dx, args...); r.Err != nil {
			return fail("dx %s: %s", args[0], r.errLine())
		}
	}
	if res.RowsEdited, err = editAmountsInPlace(dst, editEvery); err != nil {
		return fail("editing the table in place: %v", err)
	}
	if r := b.rn.run(w, nil, b.cfg.dx, "commit", "--quiet", "-m", "0.01% updated in place"); r.Err != nil {
		return fail("dx commit: %s", r.errLine())
	}
	logf("  shared extents: %d rows updated in place on XFS", res.RowsEdited)
	res.Switch = b.switchVersions(w, rel)
	if res.Switch.Error != "" {
		return fail("%s", res.Switch.Error)
	}
	tmp := filepath.Join(mnt, "copy.tmp")
	for range switchRuns {
		os.Remove(tmp)
		b.drop.drop()
		r := b.rn.run(w, nil, "cp", "--reflink=never", dst, tmp)
		if r.Err != nil {
			return fail("cp --reflink=never: %s", r.errLine())
		}
		res.CopySeconds = append(res.CopySeconds, r.Seconds)
	}
	os.Remove(tmp)
	res.CopyMedian = median(res.CopySeconds)
	logf("  shared extents: checkout median %.2fs; cp (reflink) %.2fs, cp --reflink=never %.2fs",
		res.Switch.Median, res.Switch.CpMedian, res.CopyMedian)
	return res
}

// editAmountsInPlace changes the last digit of the amount (the fifth
// field) of one data row in every `every`, in place: the file keeps its
// length and every other byte. It returns the rows changed.
func editAmountsInPlace(path string, every int) (int, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var off int64
	edited := 0
	for line := 0; ; line++ {
		b, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return edited, fmt.Errorf("line %d is over 1 MiB", line+1)
		}
		if len(b) == 0 && err == io.EOF {
			break
		}
		if line > 0 && line%every == 0 {
			at := amountEnd(b)
			if at < 0 {
				return edited, fmt.Errorf("line %d has no amount", line+1)
			}
			d := b[at]
			if _, err := f.WriteAt([]byte{'0' + (d-'0'+1)%10}, off+int64(at)); err != nil {
				return edited, err
			}
			edited++
		}
		off += int64(len(b))
		if err == io.EOF {
			break
		} else if err != nil {
			return edited, err
		}
	}
	if edited == 0 {
		return 0, fmt.Errorf("no row edited")
	}
	return edited, f.Sync()
}

// amountEnd is the offset in a row of the last digit of its fifth field
// (-1: none).
func amountEnd(row []byte) int {
	start := 0
	for range 4 {
		i := bytes.IndexByte(row[start:], ',')
		if i < 0 {
			return -1
		}
		start += i + 1
	}
	end := bytes.IndexByte(row[start:], ',')
	if end <= 0 {
		return -1
	}
	at := start + end - 1
	if row[at] < '0' || row[at] > '9' {
		return -1
	}
	return at
}

// extentMarkdown writes the shared-extents paragraph of the table dataset.
func extentMarkdown(p func(format string, args ...any), e *ExtentResult) {
	if e == nil || e.Error != "" || e.Switch == nil {
		return
	}
	s := e.Switch
	p("dx checkout on XFS (reflink on, a loop image), between the table and %d rows (0.01%%) updated in place, the same length (a run of chunks both versions share keeps its offset modulo the 4 KiB block: its whole blocks are shared, not copied), page cache dropped before each: %s (median %.2f s; the last took %s of %s from the old file within the kernel); `cp` of the file, extents shared (reflink=auto): %s (median %.2f s); `cp --reflink=never`: %s (median %.2f s).\n\n",
		e.RowsEdited, seconds(s.Seconds), s.Median, human(s.CopiedBytes), human(s.FileBytes),
		seconds(s.CpSeconds), s.CpMedian, seconds(e.CopySeconds), e.CopyMedian)
}

// evaluateExtents adds the shared-extents target of dataset d.
func evaluateExtents(add func(target, ds, result, format string, args ...any), d string, e *ExtentResult) {
	if e == nil {
		return
	}
	if e.Error != "" || e.Switch == nil || len(e.Switch.Seconds) == 0 {
		add(targetExtents, d, "FAIL", "%s", okOr(e.Error, "not measured"))
		return
	}
	s := e.Switch
	add(targetExtents, d, passFail(s.Median < targetExtentSeconds), "median %.2f s (%s); cp --reflink=never %.2f s (%.2f×), cp with the extents shared %.2f s; %d rows updated, %s of %s taken from the old file",
		s.Median, seconds(s.Seconds), e.CopyMedian, s.Median/e.CopyMedian, s.CpMedian, e.RowsEdited, human(s.CopiedBytes), human(s.FileBytes))
}
