package store

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// New files and directories in a store get modes 0666 and 0777 less the
// umask, as git's do: with umask 002 a group shares the repository.
const (
	fileMode = 0o666
	dirMode  = 0o777
)

// CreateTemp creates a new file in the store's temporary directory
// (pattern as for createTemp), for a caller that writes a file of its own
// under the store's directory and renames it into place: fsck notes a
// leftover there and gc removes it.
func (s *Store) CreateTemp(pattern string) (*os.File, error) {
	return createTemp(filepath.Join(s.dir, tmpDir), pattern)
}

// createTemp is os.CreateTemp (pattern's last "*" is replaced by a random
// string) with fileMode instead of 0600.
func createTemp(dir, pattern string) (*os.File, error) {
	prefix, suffix := pattern, ""
	if i := strings.LastIndex(pattern, "*"); i >= 0 {
		prefix, suffix = pattern[:i], pattern[i+1:]
	}
	for range 10000 {
		name := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10)+suffix)
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, &fs.PathError{Op: "createtemp", Path: filepath.Join(dir, pattern), Err: fs.ErrExist}
}

// WriteFileAtomic writes a small file durably: a temporary file, fsync,
// rename over path, fsync of the directory.
func WriteFileAtomic(path string, b []byte) error {
	return noSpace(writeFileAtomic(path, b))
}

func writeFileAtomic(path string, b []byte) error {
	return replaceFile(path+".tmp", path, b)
}

// replaceFile writes b to the file tmp, fsyncs it, renames it over path
// and fsyncs path's directory.
func replaceFile(tmp, path string, b []byte) error {
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fileMode)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// SyncDir makes a directory's entries durable.
func SyncDir(dir string) error { return syncDir(dir) }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
