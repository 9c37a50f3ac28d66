package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/progress"
	"github.com/dxdata/dx/store"
)

// DirName is the name of the store directory inside a worktree.
const DirName = ".dx"

// Errors of the porcelain. Front ends map them to messages and exit codes.
var (
	ErrNotRepo         = errors.New("not a dx repository (or any parent up to /)")
	ErrUnknownRevision = errors.New("unknown revision")
	ErrNothingToCommit = errors.New("nothing to commit, working tree clean")
	ErrLocalChanges    = errors.New("local changes would be overwritten")
	ErrExists          = errors.New("already exists")
	ErrBadName         = errors.New("invalid name")
	ErrPathspec        = errors.New("path did not match any file")
)

// Options configure Open and Init.
type Options struct {
	Progress progress.Reporter
	Store    store.Options
	// Author of new commits; default from DX_AUTHOR, else user@host.
	Author string
	// Now returns the current time (tests pin it); default time.Now.
	Now func() time.Time
	// Warn reports something the user should know that is not an error
	// (a file left out of a scan); default: nothing.
	Warn func(string)
	// DetachTrash: Close leaves the trash (big files an update replaced
	// or removed, see trash.go) for the caller to free, in a process of
	// its own, after the command returns; default: Close frees it.
	DetachTrash bool
	// Dial, if set, names the remote the command will fetch from: its
	// heads are read while the store opens (see dial.go).
	Dial *Dial
}

// Repo is an open repository: a worktree root and its store.
type Repo struct {
	Root   string // absolute worktree root
	Store  *store.Store
	opts   Options
	sparse []string     // nil: a full repository (see sparse.go)
	id     string       // the repository's random id (see tmpfile.go)
	pid    int          // this process's, in temporary names
	tmpSeq atomic.Int64 // numbers temporary files
	// ahead holds the names (base) of the temporary files this command
	// writes ahead of its worktree update (see pullahead.go): its own
	// scans keep them.
	ahead sync.Map
	// incomplete, if set, says why an interrupted worktree update could
	// not be finished (see journal.go).
	incomplete error
	// dial holds the heads of Options.Dial's remote until a fetch takes
	// them.
	dial atomic.Pointer[dial]
}

// Init creates a repository in dir (created if missing).
func Init(ctx context.Context, dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(abs, 0o777); err != nil {
		return "", fmt.Errorf("init: %w", err)
	}
	sd := filepath.Join(abs, DirName)
	if store.IsStore(sd) {
		return "", fmt.Errorf("init: %s is already a dx repository: %w", abs, ErrExists)
	}
	if err := store.Init(sd); err != nil {
		return "", fmt.Errorf("init: %w", err)
	}
	if _, err := loadID(sd); err != nil {
		return "", fmt.Errorf("init: %w", err)
	}
	return abs, nil
}

// Find returns the worktree root containing dir.
func Find(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; {
		if store.IsStore(filepath.Join(d, DirName)) {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", ErrNotRepo
		}
		d = parent
	}
}

// Open opens the repository containing dir.
func Open(ctx context.Context, dir string, o Options) (_ *Repo, err error) {
	root, err := Find(dir)
	if err != nil {
		return nil, err
	}
	sparse, err := loadSparse(root)
	if err != nil {
		return nil, err
	}
	if sparse != nil {
		o.Store.Partial = true
	}
	var d *dial
	if o.Dial != nil {
		d = startDial(ctx, root, o.Dial.Remote)
		defer func() {
			if err != nil {
				d.cancel()
			}
		}()
	}
	st, err := store.Open(ctx, filepath.Join(root, DirName), o.Store)
	if err != nil {
		return nil, err
	}
	if o.Progress == nil {
		o.Progress = progress.Nop{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Author == "" {
		o.Author = defaultAuthor()
	}
	if o.Warn == nil {
		o.Warn = func(string) {}
	}
	id, err := loadID(filepath.Join(root, DirName))
	if err != nil {
		st.Abandon()
		return nil, err
	}
	r := &Repo{Root: root, Store: st, opts: o, sparse: sparse, id: id, pid: os.Getpid()}
	r.dial.Store(d)
	// A worktree update a killed command left is finished first; one that
	// cannot be stops every command that reads or writes the worktree. A
	// reader leaves it to the next writer.
	if st.ReadOnly() {
		if j, err := r.loadJournal(); err != nil || j != nil {
			r.incomplete = fmt.Errorf("%w: it is finished by the next dx command that can write (the store is open read-only)", ErrIncompleteUpdate)
		}
	} else if r.incomplete = r.finishUpdate(ctx); r.incomplete == nil {
		if err = r.finishContinue(ctx); err != nil {
			st.Abandon()
			return nil, err
		}
	}
	return r, nil
}

func (r *Repo) warn(msg string) { r.opts.Warn(msg) }

// Close flushes and releases the store, and frees the trash unless the
// caller said it will (Options.DetachTrash). The trash holds only
// garbage: one that cannot be freed (a read-only file system) is left for
// a later command, with a warning.
func (r *Repo) Close() error {
	r.stopDial()
	err := r.Store.Close()
	if !r.opts.DetachTrash {
		if terr := EmptyTrash(r.Root); terr != nil {
			r.warn("the trash is not freed: " + terr.Error())
		}
	}
	return err
}

func defaultAuthor() string {
	if a := os.Getenv("DX_AUTHOR"); a != "" {
		return a
	}
	u := os.Getenv("USER")
	if u == "" {
		u = "dx"
	}
	h, _ := os.Hostname()
	if h == "" {
		h = "localhost"
	}
	return u + "@" + h
}

// Rel turns a user path (relative to cwd, or absolute) into a clean
// slash-separated path relative to the worktree root. It fails for paths
// outside the worktree or inside .dx.
func (r *Repo) Rel(cwd, p string) (string, error) {
	if !filepath.IsAbs(p) {
		p = filepath.Join(cwd, p)
	}
	rel, err := filepath.Rel(r.Root, filepath.Clean(p))
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s: outside the repository: %w", p, ErrPathspec)
	}
	if rel == "." {
		return "", nil
	}
	rel = filepath.ToSlash(rel)
	if rel == DirName || strings.HasPrefix(rel, DirName+"/") {
		return "", fmt.Errorf("%s: inside %s: %w", p, DirName, ErrPathspec)
	}
	return rel, nil
}

// headCommit returns HEAD's commit (nil on an unborn branch).
func (r *Repo) headCommit(ctx context.Context) (dag.ID, *dag.Commit, store.Head, error) {
	id, h, err := r.Store.ResolveHead(ctx)
	if err != nil {
		return id, nil, h, err
	}
	if id.IsZero() {
		return id, nil, h, nil
	}
	c, err := dag.LoadCommit(ctx, r.Store, id)
	return id, c, h, err
}

func treeOf(c *dag.Commit) dag.ID {
	if c == nil {
		return dag.ZeroID
	}
	return c.Tree
}
