//go:build unix

package store

import (
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// dropEmptyValueLogs removes zero-length value-log and memtable-log files
// (.vlog, .mem) from badger's directory before it is opened. A crash
// between badger creating such a file and sizing it leaves it empty, and
// badger v4 then refuses to open the database ("Open existing file: …:
// Create a new file", or "while opening memtables … Create a new file": it
// reports its own new-file status as an error). An empty file holds no
// data. The files are removed only while badger's directory lock
// is free and held by us, so never under a running process.
func dropEmptyValueLogs(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	defer d.Close() // releases the lock
	if err := unix.Flock(int(d.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return nil // in use: badger.Open waits for it
	}
	ents, err := d.ReadDir(-1)
	if err != nil {
		return err
	}
	removed := false
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".vlog") && !strings.HasSuffix(e.Name(), ".mem") {
			continue
		}
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
			removed = true
		}
	}
	if removed {
		return d.Sync()
	}
	return nil
}

// repairManifestLocked runs repairManifest while it holds badger's
// directory lock (false, nil when another process holds it).
func repairManifestLocked(dir string) (bool, error) {
	d, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer d.Close() // releases the lock
	if err := unix.Flock(int(d.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return false, nil
	}
	return repairManifest(dir)
}
