//go:build unix

package repo

import (
	"os"
	"slices"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/worktree"
)

// readDir lists dir sorted by name and lstats every name keep accepts,
// relative to the open directory: the kernel resolves one name per call
// instead of the whole path, and no os.FileInfo is built.
func readDir(dir string, keep func(name string) bool) ([]dirEntry, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	ents := make([]dirEntry, 0, len(names))
	for _, n := range names {
		if keep(n) {
			ents = append(ents, dirEntry{name: n})
		}
	}
	fd := int(f.Fd())
	parallel(len(ents), 256, func(i int) {
		e := &ents[i]
		var st unix.Stat_t
		for {
			e.err = unix.Fstatat(fd, e.name, &st, unix.AT_SYMLINK_NOFOLLOW)
			if e.err != unix.EINTR {
				break
			}
		}
		if e.err != nil {
			e.err = &os.PathError{Op: "lstat", Path: e.name, Err: e.err}
			return
		}
		e.mode, e.ok = modeOfUnix(uint32(st.Mode))
		e.stat = worktree.StatEntry{
			Size:    st.Size,
			MtimeNs: st.Mtim.Sec*1e9 + st.Mtim.Nsec,
			CtimeNs: st.Ctim.Sec*1e9 + st.Ctim.Nsec,
			Inode:   st.Ino,
			Mode:    e.mode,
		}
	})
	return ents, nil
}

func modeOfUnix(m uint32) (dag.Mode, bool) {
	switch m & unix.S_IFMT {
	case unix.S_IFREG:
		if m&0o111 != 0 {
			return dag.ModeExec, true
		}
		return dag.ModeFile, true
	case unix.S_IFDIR:
		return dag.ModeDir, true
	case unix.S_IFLNK:
		return dag.ModeSymlink, true
	}
	return 0, false
}

// inodeOf is a file's inode number (0 where the system has none).
func inodeOf(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}

// inodeCtime is a file's inode number and change time in ns (0 where the
// system has none).
func inodeCtime(fi os.FileInfo) (uint64, int64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino), ctimeNs(st)
	}
	return 0, 0
}
