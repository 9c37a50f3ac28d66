package main

// The in-place worktree benchmark (issue 23): dx checkout between the
// table and an update of 0.01% of its rows in place (the same length: the
// bytes around each edit do not move, and dx patches the file in place),
// page cache dropped before each, beside cp of the file; on the bench's
// own file system, and on one that shares extents (XFS, reflink on, in a
// loop image), beside cp with the extents shared (cp's default there,
// reflink=auto) and copied.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ExtentResult is the in-place worktree benchmark on one file system.
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
	targetInPlace       = "worktree: checkout between the table and a 0.01% update in place < 0.3 s"
	targetExtents       = "worktree on XFS (extents shared): checkout between the table and a 0.01% update in place < 0.3 s"
)

// extentSwitch is inPlaceSwitch on a fresh XFS file system.
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
	// The loop device reads its image with direct I/O, as a disk serves
	// requests: in its default (buffered) mode it serves one at a time,
	// through the page cache of the file system below, which the bench
	// also drops, so that every scattered read waits for the one before.
	r := b.rn.run(base, nil, "losetup", "--find", "--show", "--direct-io=on", img)
	if r.Err != nil {
		return fail("losetup of an XFS image (needs root): %s", r.errLine())
	}
	dev := strings.TrimSpace(r.Stdout)
	defer b.rn.run(base, nil, "losetup", "--detach", dev)
	if r := b.rn.run(base, nil, "mount", dev, mnt); r.Err != nil {
		return fail("mount of an XFS loop image (needs root): %s", r.errLine())
	}
	defer b.rn.run(base, nil, "umount", mnt)
	return b.inPlaceSwitch(repo, rel, mnt, "on XFS")
}

// inPlaceSwitch copies the table at rel in repo into a new repository in
// dir, commits it and an update of 0.01% of its rows in place, and times
// dx checkout between the two and cp of the file.
func (b *bench) inPlaceSwitch(repo, rel, dir, where string) *ExtentResult {
	res := &ExtentResult{}
	fail := func(format string, args ...any) *ExtentResult {
		res.Error = fmt.Sprintf(format, args...)
		logf("  in place %s: %s", where, res.Error)
		return res
	}
	src := filepath.Join(repo, filepath.FromSlash(rel))
	w := filepath.Join(dir, "inplace")
	defer os.RemoveAll(w)
	dst := filepath.Join(w, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fail("%v", err)
	}
	if r := b.rn.run(dir, nil, "cp", "--reflink=never", src, dst); r.Err != nil {
		return fail("cp: %s", r.errLine())
	}
	for _, args := range [][]string{{"init"}, {"commit", "--quiet", "-m", "table"}} {
		if r := b.rn.run(w, nil, b.cfg.dx, args...); r.Err != nil {
			return fail("dx %s: %s", args[0], r.errLine())
		}
	}
	n, err := editAmountsInPlace(dst, editEvery)
	if err != nil {
		return fail("editing the table in place: %v", err)
	}
	res.RowsEdited = n
	if r := b.rn.run(w, nil, b.cfg.dx, "commit", "--quiet", "-m", "0.01% updated in place"); r.Err != nil {
		return fail("dx commit: %s", r.errLine())
	}
	logf("  in place %s: %d rows updated", where, res.RowsEdited)
	res.Switch = b.switchVersions(w, rel)
	if res.Switch.Error != "" {
		return fail("%s", res.Switch.Error)
	}
	tmp := filepath.Join(dir, "copy.tmp")
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
	logf("  in place %s: checkout median %.2fs; cp %.2fs, cp --reflink=never %.2fs",
		where, res.Switch.Median, res.Switch.CpMedian, res.CopyMedian)
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

// extentMarkdown writes the in-place paragraphs of the table dataset:
// on the bench's file system (e) and on XFS (x).
func extentMarkdown(p func(format string, args ...any), e, x *ExtentResult) {
	for _, r := range []struct {
		res       *ExtentResult
		where, cp string
	}{
		{e, "", "`cp` of the file"},
		{x, " on XFS (reflink on, a loop image read with direct I/O)", "`cp` of the file, extents shared (reflink=auto)"},
	} {
		if r.res == nil || r.res.Error != "" || r.res.Switch == nil {
			continue
		}
		s := r.res.Switch
		p("dx checkout%s between the table and %d rows (0.01%%) updated in place, the same length (no byte moves, so dx patches the file in place: only the changed chunks are written), page cache dropped before each: %s (median %.2f s; the last kept %s of %s); %s: %s (median %.2f s); `cp --reflink=never`: %s (median %.2f s).\n\n",
			r.where, r.res.RowsEdited, seconds(s.Seconds), s.Median, human(s.CopiedBytes), human(s.FileBytes),
			r.cp, seconds(s.CpSeconds), s.CpMedian, seconds(r.res.CopySeconds), r.res.CopyMedian)
	}
}

// evaluateExtents adds the in-place targets of dataset d: on the bench's
// file system (e) and on XFS (x).
func evaluateExtents(add func(target, ds, result, format string, args ...any), d string, e, x *ExtentResult) {
	for _, r := range []struct {
		res    *ExtentResult
		target string
	}{{e, targetInPlace}, {x, targetExtents}} {
		switch {
		case r.res == nil:
		case r.res.Error != "" || r.res.Switch == nil || len(r.res.Switch.Seconds) == 0:
			add(r.target, d, "FAIL", "%s", okOr(r.res.Error, "not measured"))
		default:
			s := r.res.Switch
			add(r.target, d, passFail(s.Median < targetExtentSeconds), "median %.2f s (%s); cp --reflink=never %.2f s (%.2f×), cp %.2f s; %d rows updated, %s of %s kept in place",
				s.Median, seconds(s.Seconds), r.res.CopyMedian, s.Median/r.res.CopyMedian, s.CpMedian, r.res.RowsEdited, human(s.CopiedBytes), human(s.FileBytes))
		}
	}
}
