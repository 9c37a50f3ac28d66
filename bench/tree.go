package main

// Sizing, emptying and hashing directory trees.

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
)

// dirSize sums the sizes of the regular files under root (apparent size).
func dirSize(root string) (int64, error) {
	var n int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	return n, err
}

// setAside empties root but for the entries named keep by moving the
// others into a new directory beside it, and returns a function that
// removes them. A checkout timed right after a deletion of its files
// would pay for that deletion: ext4 without a journal passes over the
// inodes freed in the last 30 s when it allocates new ones.
func setAside(root string, keep ...string) (func(), error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	aside, err := os.MkdirTemp(filepath.Dir(root), filepath.Base(root)+".aside-")
	if err != nil {
		return nil, err
	}
	drop := func() { os.RemoveAll(aside) }
	for _, e := range ents {
		if slices.Contains(keep, e.Name()) {
			continue
		}
		if err := os.Rename(filepath.Join(root, e.Name()), filepath.Join(aside, e.Name())); err != nil {
			drop()
			return nil, err
		}
	}
	return drop, nil
}

// hashTree returns sha256 of every regular file under root, keyed by
// slash-separated relative path, skipping top-level entries whose name
// starts with skipPrefix (".dx": the repository and any .dx* files the tool
// keeps in the worktree root). Symlinks and other non-regular files are an
// error.
func hashTree(root, skipPrefix string) (map[string][32]byte, error) {
	type job struct{ rel, path string }
	var jobs []job
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel != "." && skipPrefix != "" && !strings.ContainsRune(rel, filepath.Separator) && strings.HasPrefix(rel, skipPrefix) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file (%v)", rel, d.Type())
		}
		jobs = append(jobs, job{filepath.ToSlash(rel), p})
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string][32]byte, len(jobs))
	var mu sync.Mutex
	var firstErr error
	ch := make(chan job)
	var wg sync.WaitGroup
	for w := 0; w < runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1<<20)
			for j := range ch {
				sum, err := hashFile(j.path, buf)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				out[j.rel] = sum
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
	return out, firstErr
}

func hashFile(path string, buf []byte) ([32]byte, error) {
	var sum [32]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, f, buf); err != nil {
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// compareTrees describes how got differs from want; "" when equal.
func compareTrees(want, got map[string][32]byte) string {
	var missing, extra, diff []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			missing = append(missing, k)
		case g != w:
			diff = append(diff, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			extra = append(extra, k)
		}
	}
	if len(missing)+len(extra)+len(diff) == 0 {
		return ""
	}
	var b bytes.Buffer
	part := func(what string, l []string) {
		if len(l) == 0 {
			return
		}
		sort.Strings(l)
		ex := l[:min(3, len(l))]
		fmt.Fprintf(&b, "%d %s (e.g. %s); ", len(l), what, strings.Join(ex, ", "))
	}
	part("missing", missing)
	part("extra", extra)
	part("differ", diff)
	return strings.TrimSuffix(b.String(), "; ")
}
