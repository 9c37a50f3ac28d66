package main

// The small-files generator: CSV, log and binary files of 1 to 50 KiB,
// and its v2 (a few files edited, a few added).

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync"
)

const (
	smallChangeFrac = 0.02    // small files changed in v2
	smallNewFrac    = 0.01    // small files added in v2
	smallMinSize    = 1 << 10 // 1 KiB
	smallMaxSize    = 50 << 10
	smallSizeExp    = 1.58 // size = min + (max-min)*u^exp  → mean ≈ 20 KiB
)

// SmallSpec describes a dataset of many small files.
type SmallSpec struct {
	Seed  uint64
	Files int // number of files in v1
	// Dir, MinSize and MaxSize, when set, replace the top directory and
	// the size bounds ("files", 1 KiB, 50 KiB): the many-files dataset's
	// files are smaller.
	Dir              string
	MinSize, MaxSize int
}

// dir is the top directory of the files.
func (s SmallSpec) dir() string {
	if s.Dir == "" {
		return "files"
	}
	return s.Dir
}

// bounds returns the smallest and largest file size.
func (s SmallSpec) bounds() (lo, hi int) {
	lo, hi = smallMinSize, smallMaxSize
	if s.MinSize > 0 {
		lo = s.MinSize
	}
	if s.MaxSize > 0 {
		hi = s.MaxSize
	}
	return lo, hi
}

// SmallStats describes one generated version of the small-files dataset.
type SmallStats struct {
	Files   int
	Bytes   int64
	Changed int // v2 only
	Added   int // v2 only
}

// rel is the worktree-relative path of file i: 100 files per leaf
// directory, two directory levels.
func (s SmallSpec) rel(i int) string {
	ext := "bin"
	switch i % 4 {
	case 0:
		ext = "csv"
	case 2:
		ext = "log"
	}
	d := i / 100
	return filepath.Join(s.dir(), fmt.Sprintf("d%02d", d/10), fmt.Sprintf("d%02d", d%10), fmt.Sprintf("f%05d.%s", i, ext))
}

// smallV1 returns v1 content of file i, reusing buf.
func (s SmallSpec) smallV1(i int, buf []byte) []byte {
	r := rand.New(rand.NewPCG(s.Seed, uint64(i)))
	lo, hi := s.bounds()
	size := lo + int(float64(hi-lo)*math.Pow(r.Float64(), smallSizeExp))
	switch i % 4 {
	case 0: // CSV-like lines
		buf = append(buf[:0], tableHeader...)
		g := newRowGen(s.Seed ^ uint64(i)*0x9e37)
		id := int64(r.IntN(1_000_000))
		for len(buf) < size {
			id++
			v := g.draw(id)
			buf = appendRow(buf, id, &v)
		}
		return buf[:size]
	case 2: // log-like lines
		buf = buf[:0]
		ts := tableEpoch + int64(r.IntN(86400*365))
		for len(buf) < size {
			ts += int64(r.IntN(5))
			buf = appendTS(buf, ts)
			buf = append(buf, ' ')
			buf = append(buf, logLevels[r.IntN(len(logLevels))]...)
			buf = append(buf, " svc="...)
			buf = append(buf, services[r.IntN(len(services))]...)
			buf = append(buf, " req="...)
			buf = appendInt(buf, int64(r.IntN(10_000_000)))
			buf = append(buf, " latency_ms="...)
			buf = appendInt(buf, int64(r.IntN(2000)))
			buf = append(buf, " msg="...)
			n := 2 + r.IntN(6)
			for k := 0; k < n; k++ {
				if k > 0 {
					buf = append(buf, '_')
				}
				buf = append(buf, words[r.IntN(len(words))]...)
			}
			buf = append(buf, '\n')
		}
		return buf[:size]
	default: // binary, partly compressible
		if cap(buf) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		fillMixedBinary(r, buf)
		return buf
	}
}

// smallChangedSet picks exactly round(2% of Files) (at least 1) distinct
// v1 files to edit in v2.
func (s SmallSpec) smallChangedSet() map[int]bool {
	k := int(math.Round(float64(s.Files) * smallChangeFrac))
	if k < 1 && s.Files > 0 {
		k = 1
	}
	r := rand.New(rand.NewPCG(s.Seed^keySmallPick, 1))
	perm := r.Perm(s.Files)
	set := make(map[int]bool, k)
	for _, i := range perm[:k] {
		set[i] = true
	}
	return set
}

func (s SmallSpec) smallAdded() int {
	k := int(math.Round(float64(s.Files) * smallNewFrac))
	if k < 1 && s.Files > 0 {
		k = 1
	}
	return k
}

// smallEdit applies v2's small edit to file i's content: text files get a
// short line inserted at a line boundary, binary files get 64 bytes
// overwritten.
func (s SmallSpec) smallEdit(i int, b []byte) []byte {
	r := rand.New(rand.NewPCG(s.Seed^keySmallEdit, uint64(i)))
	if i%2 == 1 {
		n := min(64, len(b))
		off := r.IntN(len(b) - n + 1)
		fillRandom(r, b[off:off+n])
		return b
	}
	off := r.IntN(len(b))
	for off > 0 && b[off-1] != '\n' {
		off--
	}
	line := []byte("EDITED v2 ")
	line = appendInt(line, int64(r.IntN(1_000_000)))
	line = append(line, " changed by bench\n"...)
	out := make([]byte, 0, len(b)+len(line))
	out = append(out, b[:off]...)
	out = append(out, line...)
	return append(out, b[off:]...)
}

// eachSmall calls fn with the index, relative path and content of every
// file of the given version. The content slice is only valid during the call.
func (s SmallSpec) eachSmall(v2 bool, fn func(i int, rel string, data []byte) error) (SmallStats, error) {
	var st SmallStats
	var changed map[int]bool
	total := s.Files
	if v2 {
		changed = s.smallChangedSet()
		st.Added = s.smallAdded()
		total += st.Added
	}
	_, hi := s.bounds()
	buf := make([]byte, 0, hi+4096)
	for i := 0; i < total; i++ {
		buf = s.smallV1(i, buf)
		data := buf
		if changed[i] {
			data = s.smallEdit(i, buf)
			st.Changed++
		}
		if err := fn(i, s.rel(i), data); err != nil {
			return st, err
		}
		st.Files++
		st.Bytes += int64(len(data))
	}
	return st, nil
}

// WriteSmall writes every file of v1 under root, on all cores (every file
// depends only on the seed and its index, so the order does not matter).
func (s SmallSpec) WriteSmall(root string) (SmallStats, error) {
	workers := max(1, min(runtime.NumCPU(), 8))
	stats := make([]SmallStats, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, hi := s.bounds()
			buf := make([]byte, 0, hi+4096)
			for i := w; i < s.Files; i += workers {
				buf = s.smallV1(i, buf)
				if err := writeFileMkdir(filepath.Join(root, s.rel(i)), buf); err != nil {
					errs[w] = err
					return
				}
				stats[w].Files++
				stats[w].Bytes += int64(len(buf))
			}
		}()
	}
	wg.Wait()
	var st SmallStats
	for w := range stats {
		st.Files += stats[w].Files
		st.Bytes += stats[w].Bytes
	}
	return st, errors.Join(errs...)
}

// ApplySmallV2 turns a v1 tree under root into v2 in place: it rewrites only
// the changed files and creates the new ones. The returned stats describe
// the whole v2 tree.
func (s SmallSpec) ApplySmallV2(root string) (SmallStats, error) {
	changed := s.smallChangedSet()
	st := SmallStats{Changed: len(changed), Added: s.smallAdded()}
	st.Files = s.Files + st.Added
	_, hi := s.bounds()
	buf := make([]byte, 0, hi+4096)
	for i := 0; i < st.Files; i++ {
		buf = s.smallV1(i, buf)
		data := buf
		if changed[i] {
			data = s.smallEdit(i, buf)
		}
		st.Bytes += int64(len(data))
		if i < s.Files && !changed[i] {
			continue
		}
		if err := writeFileMkdir(filepath.Join(root, s.rel(i)), data); err != nil {
			return st, err
		}
	}
	return st, nil
}
