//go:build !linux

package store

import (
	"errors"
	"io"
	"os"
)

// StatsOpened: Ingest cannot fill IngestFile.Stat here (callers stat
// files themselves).
const StatsOpened = false

func statOpened(io.Reader, *FileStat) error {
	return errors.New("stat of an open file is not supported here")
}

func openRead(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return sizedFile{f}, nil
}

// sizedFile is an os.File with the Size that ingest asks for.
type sizedFile struct{ *os.File }

func (f sizedFile) Size() (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// fromFd is openRead of a file the read-ahead has opened; the read-ahead
// opens none on these systems.
func fromFd(fd int, path string) io.ReadCloser { return sizedFile{os.NewFile(uintptr(fd), path)} }
