package repo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	gitignore "github.com/sabhiram/go-gitignore"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/progress"
	"github.com/dxdata/dx/internal/worktree"
)

// scanner reads the worktree (or a model artifact's directory) into a tree
// of worktreeNodes: what is versioned, with what each file's stat says.
type scanner struct {
	root   string
	ignore *gitignore.GitIgnore
	// tmpPrefix starts the names of this repository's temporary files,
	// which a scan removes (see tmpfile.go), except those live reports
	// this command is writing.
	tmpPrefix string
	live      func(name string) bool
	// warn reports a file the scan cannot version and leaves out.
	warn func(string)
	// only, if non-empty, limits the scan to these paths and what is
	// beneath them (directories on the way are scanned for them only).
	only []string
	sem  chan struct{} // slots for directories scanned in parallel
	// deferFiles: regular files are not statted by the scan but when
	// ingest opens them (their nodes are deferred), for a worktree whose
	// every file will be read anyway (the stat cache is empty).
	deferFiles bool
	// tracked reports whether a path is in a tree the worktree is
	// versioned against (HEAD's, and during a merge its result): an
	// ignored path there is still scanned, as git keeps tracked files
	// tracked. Nil: nothing is.
	tracked func(p string, dir bool) bool
	// skip lists paths left out (a merge's conflict reports).
	skip map[string]bool
	// progress shows, once a scan has taken barDelay, how many entries
	// it has seen (seen).
	progress progress.Reporter
	barDelay time.Duration
	seen     atomic.Int64
}

// scanBarDelay is how long a scan goes on before it shows its count on a
// terminal: a cold worktree of 200,000 files took over a second, in
// silence, before a commit's bar.
const scanBarDelay = 300 * time.Millisecond

// newScanner makes a scanner of the directory root: the worktree's root,
// or a model artifact's directory (nothing there is tracked).
func (r *Repo) newScanner(ctx context.Context, root string, only []string) (*scanner, error) {
	sc := &scanner{root: root, only: only, sem: make(chan struct{}, 4*runtime.GOMAXPROCS(0)),
		tmpPrefix: r.tmpPrefix(), live: r.liveTemp, warn: r.warn, progress: r.opts.Progress, barDelay: scanBarDelay}
	ig, err := gitignore.CompileIgnoreFile(filepath.Join(root, IgnoreFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", IgnoreFile, err)
	}
	sc.ignore = ig
	if root != r.Root {
		return sc, nil
	}
	st, err := r.LoadMergeState()
	if err != nil {
		return nil, err
	}
	var trees []dag.ID
	if st != nil {
		if !st.Tree.IsZero() {
			trees = append(trees, st.Tree)
		}
		sc.skip = map[string]bool{}
		for _, p := range st.Reports {
			sc.skip[p] = true
		}
	}
	if ig == nil {
		return sc, nil // nothing ignored: what is tracked does not matter
	}
	_, head, _, err := r.headCommit(ctx)
	if err != nil {
		return nil, err
	}
	if head != nil {
		trees = append(trees, head.Tree)
	}
	if len(trees) > 0 {
		sc.tracked = func(p string, dir bool) bool {
			for _, t := range trees {
				if e, err := dag.LookupPath(ctx, r.Store, t, p); err == nil && (e.Mode == dag.ModeDir) == dir {
					return true
				}
			}
			return false
		}
	}
	return sc, nil
}

// ignored reports whether p is left out by .dxignore: it matches, and it
// is not tracked.
func (sc *scanner) ignored(p string, dir bool) bool {
	if sc.ignore == nil {
		return false
	}
	q := p
	if dir {
		q += "/"
	}
	return sc.ignore.MatchesPath(q) && (sc.tracked == nil || !sc.tracked(p, dir))
}

// wanted reports whether p is selected by `only`, and whether it is merely a
// directory on the way to a selected path.
func (sc *scanner) wanted(p string) (in, above bool) {
	if len(sc.only) == 0 {
		return true, false
	}
	for _, o := range sc.only {
		if o == "" || p == o || strings.HasPrefix(p, o+"/") {
			return true, false
		}
		if strings.HasPrefix(o, p+"/") {
			above = true
		}
	}
	return false, above
}

func statEntry(fi os.FileInfo, mode dag.Mode) worktree.StatEntry {
	e := worktree.StatEntry{Size: fi.Size(), MtimeNs: fi.ModTime().UnixNano(), Mode: mode}
	e.Inode, e.CtimeNs = inodeCtime(fi)
	return e
}

func modeOf(fi os.FileInfo) (dag.Mode, bool) {
	switch m := fi.Mode(); {
	case m.IsRegular():
		if m&0o111 != 0 {
			return dag.ModeExec, true
		}
		return dag.ModeFile, true
	case m.IsDir():
		return dag.ModeDir, true
	case m&fs.ModeSymlink != 0:
		return dag.ModeSymlink, true
	}
	return 0, false // sockets, devices, pipes are not versioned
}

// scan reads the worktree below the root into a tree of worktreeNodes. Empty
// directories are left out, as git does.
func (sc *scanner) scan(ctx context.Context) (*worktreeNode, error) {
	defer sc.showProgress()()
	root := &worktreeNode{mode: dag.ModeDir}
	if err := sc.scanDir(ctx, root); err != nil {
		return nil, err
	}
	return root, nil
}

// dirEntry is one directory entry as readDir saw it.
type dirEntry struct {
	name string
	mode dag.Mode
	ok   bool // a kind dx versions
	stat worktree.StatEntry
	// deferred: a regular file not statted (see scanner.deferFiles).
	deferred bool
	err      error
}

// scanDir reads directory d and, in parallel where a slot is free, the
// directories below it. Children keep name order; the first error in that
// order is returned.
func (sc *scanner) scanDir(ctx context.Context, d *worktreeNode) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := filepath.Join(sc.root, filepath.FromSlash(d.path))
	sub := func(name string) string {
		if d.path == "" {
			return name
		}
		return d.path + "/" + name
	}
	ents, err := readDir(dir, func(name string) bool {
		if name == DirName || name == ".git" {
			// The store, and git's (dx often lives inside a git checkout
			// of the code; git's store is not data).
			return false
		}
		if strings.HasPrefix(name, sc.tmpPrefix) {
			// A temporary file or directory made whole (newtrees.go) of
			// this repository's killed command (every dx command that
			// writes holds the repository alone), or of this one.
			if sc.live == nil || !sc.live(name) {
				os.RemoveAll(filepath.Join(dir, name))
			}
			return false
		}
		if len(sc.only) == 0 {
			return true // (without building the path)
		}
		in, above := sc.wanted(sub(name))
		return in || above
	}, sc.deferFiles)
	if err != nil {
		return fmt.Errorf("scan %s: %w", displayPath(d.path), err)
	}
	sc.seen.Add(int64(len(ents)))
	nodes := make([]*worktreeNode, len(ents))
	errs := make([]error, len(ents))
	var wg sync.WaitGroup
	for i := range ents {
		e := &ents[i]
		p := sub(e.name)
		if e.err != nil {
			if !errors.Is(e.err, fs.ErrNotExist) { // else: vanished while scanning
				errs[i] = fmt.Errorf("scan %s: %w", p, e.err)
			}
			continue
		}
		if !e.ok {
			continue
		}
		if len(sc.only) > 0 {
			if in, _ := sc.wanted(p); !in && e.mode != dag.ModeDir {
				continue
			}
		}
		if sc.skip[p] || sc.ignored(p, e.mode == dag.ModeDir) {
			continue
		}
		if !utf8.ValidString(e.name) {
			// Tree names are UTF-8: the file is left out, not the tree.
			sc.warn(fmt.Sprintf("%q: not versioned: its name is not valid UTF-8", p))
			continue
		}
		if dag.ReservedName(e.name) {
			sc.warn(fmt.Sprintf("%s: not versioned: a file system may read its name as .git or .dx", p))
			continue
		}
		if err := dag.ValidName(e.name); err != nil {
			errs[i] = fmt.Errorf("cannot version %q: %v", p, err)
			continue
		}
		n := &worktreeNode{name: e.name, path: p, mode: e.mode}
		nodes[i] = n
		if e.mode != dag.ModeDir {
			n.stat, n.deferred = e.stat, e.deferred
			n.size = uint64(e.stat.Size)
			continue
		}
		select {
		case sc.sem <- struct{}{}:
			wg.Add(1)
			go func() {
				defer func() { <-sc.sem; wg.Done() }()
				errs[i] = sc.scanDir(ctx, n)
			}()
		default:
			errs[i] = sc.scanDir(ctx, n)
		}
	}
	wg.Wait()
	for i, n := range nodes {
		if errs[i] != nil {
			return errs[i]
		}
		if n == nil || (n.mode == dag.ModeDir && len(n.children) == 0) {
			continue
		}
		d.children = append(d.children, n)
	}
	return nil
}

// showProgress starts a count of the entries the scan sees, shown once
// the scan has taken barDelay (quick scans show nothing); the function it
// returns ends it.
func (sc *scanner) showProgress() (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		wait := time.NewTimer(sc.barDelay)
		defer wait.Stop()
		select {
		case <-done:
			return
		case <-wait.C:
		}
		bar := sc.progress.Start("scanning", -1, false)
		defer bar.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		var shown int64
		for {
			n := sc.seen.Load()
			bar.Add(n - shown)
			shown = n
			select {
			case <-done:
				bar.Add(sc.seen.Load() - shown)
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// parallel calls fn(0..n-1) on all cores when n is at least threshold, else in
// order on this goroutine.
func parallel(n, threshold int, fn func(i int)) {
	w := runtime.GOMAXPROCS(0)
	if n < threshold || w < 2 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < w; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(64)) - 64
				if i >= n {
					return
				}
				for j := i; j < min(i+64, n); j++ {
					fn(j)
				}
			}
		}()
	}
	wg.Wait()
}

func displayPath(p string) string {
	if p == "" {
		return "."
	}
	return p
}
