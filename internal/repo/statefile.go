package repo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dxdata/dx/store"
)

// State files (a merge stopped on conflicts, a worktree update under way,
// a subscriber's cursors) are small JSON files in the store directory,
// written atomically and durably.

// LoadStateFile reads the state file at path into v; found is false when
// there is none.
func LoadStateFile(path string, v any) (found bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s: %v: %w", filepath.Base(path), err, store.ErrCorrupt)
	}
	return true, nil
}

// SaveStateFile writes v as the state file at path, durably. The JSON is
// compact: a worktree update's journal names every file it writes, and
// indenting that for 20,000 files cost a checkout several milliseconds.
func SaveStateFile(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return store.WriteFileAtomic(path, b)
}

// dropStateFile removes the state file at path, if there is one.
func dropStateFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
