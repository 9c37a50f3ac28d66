package repo

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// Temporary worktree files (a checkout's new content before its rename
// into place) are named .dx-tmp-<repository id>-<pid>-<n>, beside the file
// they replace. A scan removes those of its own repository, left by a
// killed command, and nothing else: a user's file named .dx-tmp-notes is
// data like any other.
const tmpMarker = ".dx-tmp-"

// idFile, in the store directory, holds the repository's random id.
const idFile = "REPO_ID"

// loadID returns the repository's id, creating it on first use (a
// repository made by an older dx has none).
func loadID(storeDir string) (string, error) {
	p := filepath.Join(storeDir, idFile)
	b, err := os.ReadFile(p)
	if err == nil {
		if id := strings.TrimSpace(string(b)); validID(id) {
			return id, nil
		}
		return "", fmt.Errorf("%s: not a repository id: %w", p, store.ErrCorrupt)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	id := hex.EncodeToString(raw[:])
	// Unwritable (a full disk): this command's temporaries, if it makes
	// any, are then left for the user to see rather than removed.
	_ = store.WriteFileAtomic(p, []byte(id+"\n"))
	return id, nil
}

func validID(id string) bool {
	if len(id) != 16 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// tmpPrefix starts the names of this repository's temporary files.
func (r *Repo) tmpPrefix() string { return tmpMarker + r.id + "-" }

// tmpName returns a fresh temporary name beside p (both relative to the
// root).
func (r *Repo) tmpName(p string) string {
	n := r.tmpSeq.Add(1)
	return path.Join(path.Dir(p), fmt.Sprintf("%s%d-%d", r.tmpPrefix(), r.pid, n))
}

// liveTemp reports whether name is a temporary file this command is
// writing ahead (its base name).
func (r *Repo) liveTemp(name string) bool {
	_, ok := r.ahead.Load(name)
	return ok
}

// tempFiles makes and removes temporary files in the worktree: through
// the Root (rootFiles), or relative to directories held open (dirHandles).
type tempFiles interface {
	// create makes the file p, which must not exist, open for writing.
	create(p string, perm os.FileMode) (*os.File, error)
	remove(p string) error
}

// rootFiles makes temporaries through a Root.
type rootFiles struct{ root *os.Root }

func (r rootFiles) create(p string, perm os.FileMode) (*os.File, error) {
	return r.root.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
}

func (r rootFiles) remove(p string) error { return r.root.Remove(p) }

// writeTemp writes a regular file (mode: ModeFile or ModeExec) named tmp,
// with fill, and returns what an fstat of it said once filled; on an
// error nothing is left.
func writeTemp(tf tempFiles, tmp string, mode dag.Mode, fill func(f *os.File) error) (os.FileInfo, error) {
	f, err := tf.create(tmp, permOf(mode))
	if err != nil {
		return nil, err
	}
	var fi os.FileInfo
	if err = fill(f); err == nil {
		fi, err = finishTemp(f, mode)
	} else {
		f.Close()
	}
	if err != nil {
		tf.remove(tmp)
		return nil, err
	}
	return fi, nil
}

// permOf is the permissions of a regular file of mode (ModeFile or
// ModeExec).
func permOf(mode dag.Mode) os.FileMode {
	if mode == dag.ModeExec {
		return 0o755
	}
	return 0o644
}

// finishTemp closes a temporary file written (mode: ModeFile or
// ModeExec), its permissions set as the mode says whatever the umask, and
// returns what an fstat of it said.
func finishTemp(f *os.File, mode dag.Mode) (os.FileInfo, error) {
	perm := permOf(mode)
	fi, err := f.Stat()
	if err == nil && fi.Mode().Perm() != perm {
		err = f.Chmod(perm) // the umask narrowed it
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return fi, err
}
