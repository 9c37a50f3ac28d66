package worktree

import (
	"os"
	"path/filepath"
	"time"
)

// clockFileName is the marker file whose mtime reads the file system's
// clock, in the store's directory.
const clockFileName = "clock"

// Stamp returns the Recorded value for stat entries taken now, read from
// the file system's own clock: a write to a marker file in the store's
// directory, whose mtime is read back. A file whose mtime is older than
// the marker's was last written before it, and any later write gives it
// an mtime no older than the marker's; so its entry is safe to trust at
// once, however coarse the file system's timestamps. Git compares with its
// index file's mtime for the same reason. The value is the marker's mtime
// plus RacyWindowNs, so that Trusted reads it, as older versions do, as
// "modified strictly before the marker". When the store is read-only or
// the marker cannot be written, it is the wall clock, as before.
func Stamp(ix Index) int64 {
	if ix.ReadOnly() {
		return time.Now().UnixNano()
	}
	ns, err := fsNow(ix.Dir())
	if err != nil {
		return time.Now().UnixNano()
	}
	return ns + RacyWindowNs
}

// fsNow writes a byte to the marker and returns its mtime.
func fsNow(dir string) (int64, error) {
	f, err := os.OpenFile(filepath.Join(dir, clockFileName), os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte{'\n'}, 0); err != nil {
		return 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.ModTime().UnixNano(), nil
}
