package subscribe

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
)

// Cursor is what a subscriber remembers of one followed branch.
type Cursor struct {
	// Commit is the last head handled (the command exited 0 on the delta
	// ending there); zero when none was.
	Commit  dag.ID    `json:"commit"`
	Handled time.Time `json:"handled,omitzero"`
	// LastError is the last failure of this branch since Commit moved:
	// the command's exit, a fetch that failed, a rewrite.
	LastError string `json:"last_error,omitempty"`
	Failures  int    `json:"failures,omitempty"`
	// FailedHead is the head of the delta that failed last.
	FailedHead dag.ID `json:"failed_head,omitzero"`
}

// cursorFile is the cursors of one remote, one file per remote.
type cursorFile struct {
	path string
	// Command is what the last subscriber ran, for a retry without one.
	Command  string            `json:"command,omitempty"`
	Branches map[string]Cursor `json:"branches"`
}

// cursorPath is where the cursors of remote live in dir.
func cursorPath(dir, remoteName string) string {
	return filepath.Join(dir, remoteName+".json")
}

// loadCursors reads the cursors of a remote; a missing file is none.
func loadCursors(dir, remoteName string) (*cursorFile, error) {
	c := &cursorFile{path: cursorPath(dir, remoteName)}
	if _, err := repo.LoadStateFile(c.path, c); err != nil {
		return nil, err
	}
	if c.Branches == nil {
		c.Branches = map[string]Cursor{}
	}
	return c, nil
}

// save replaces the file atomically and durably (written to a temporary
// file, fsynced, renamed, directory fsynced).
func (c *cursorFile) save() error {
	if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil {
		return err
	}
	return repo.SaveStateFile(c.path, c)
}

// remotesWithCursors lists the remotes that have a cursor file in dir.
func remotesWithCursors(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok && e.Type().IsRegular() {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}
