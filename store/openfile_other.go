//go:build !linux

package store

import (
	"io"
	"os"
)

func openRead(path string) (io.ReadCloser, error) { return os.Open(path) }
