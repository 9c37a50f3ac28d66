package main

// Writing and hashing what a generator makes.

import (
	"bufio"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
)

// writeFileMkdir writes data to path, making its directory if it is missing.
func writeFileMkdir(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		if !os.IsNotExist(err) {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		return os.WriteFile(path, data, 0o644)
	}
	return nil
}

// writeStream creates path and streams gen into it through a 1 MiB buffer.
func writeStream(path string, gen func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := gen(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// hashStream returns the SHA-256 of what gen writes.
func hashStream(gen func(io.Writer) error) ([32]byte, error) {
	h := sha256.New()
	bw := bufio.NewWriterSize(h, 1<<20)
	var sum [32]byte
	if err := gen(bw); err != nil {
		return sum, err
	}
	if err := bw.Flush(); err != nil {
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}
