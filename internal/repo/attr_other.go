//go:build !linux

package repo

import (
	"errors"
	"io/fs"
	"os"
)

// lstatAttr reads what checkObstacles needs of a path (no attributes
// here: nothing is known to be immutable).
func lstatAttr(full string) (fileAttr, error) {
	fi, err := os.Lstat(full)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fileAttr{}, nil
		}
		return fileAttr{}, err
	}
	return fileAttr{exists: true, dir: fi.IsDir()}, nil
}
