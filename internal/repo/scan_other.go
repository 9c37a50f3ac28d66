//go:build !unix

package repo

import (
	"os"
	"path/filepath"
)

// readDir lists dir sorted by name and lstats every name keep accepts
// (deferFiles is for systems where Ingest stats open files: not these).
func readDir(dir string, keep func(name string) bool, _ bool) ([]dirEntry, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	ents := make([]dirEntry, 0, len(des))
	for _, de := range des {
		if keep(de.Name()) {
			ents = append(ents, dirEntry{name: de.Name()})
		}
	}
	parallel(len(ents), 256, func(i int) {
		e := &ents[i]
		fi, err := os.Lstat(filepath.Join(dir, e.name))
		if err != nil {
			e.err = err
			return
		}
		e.mode, e.ok = modeOf(fi)
		e.stat = statEntry(fi, e.mode)
	})
	return ents, nil
}

// inodeOf is a file's inode number (0 where the system has none).
func inodeOf(os.FileInfo) uint64 { return 0 }

// linksOf is a file's number of hard links: none here.
func linksOf(os.FileInfo) uint64 { return 0 }

// inodeCtime is a file's inode number and change time: none here.
func inodeCtime(os.FileInfo) (uint64, int64) { return 0, 0 }
