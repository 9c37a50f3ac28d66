//go:build unix

package repo

import (
	"os"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/worktree"
)

// readDir lists dir sorted by name and lstats every name keep accepts,
// relative to the open directory: the kernel resolves one name per call
// instead of the whole path, and no os.FileInfo is built. Directories are
// not statted (the entry's type says what they are), nor, with
// deferFiles, regular files: their entries are deferred, to be statted
// through the file descriptor that reads them.
func readDir(dir string, keep func(name string) bool, deferFiles bool) ([]dirEntry, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	des, err := f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(des, func(a, b os.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	ents := make([]dirEntry, 0, len(des))
	var stat []int // the entries to lstat
	for _, de := range des {
		if !keep(de.Name()) {
			continue
		}
		e := dirEntry{name: de.Name()}
		switch t := de.Type(); {
		case t.IsDir():
			e.mode, e.ok = dag.ModeDir, true
		case t.IsRegular() && deferFiles:
			e.mode, e.ok, e.deferred = dag.ModeFile, true, true
		default:
			stat = append(stat, len(ents))
		}
		ents = append(ents, e)
	}
	fd := int(f.Fd())
	parallel(len(stat), 256, func(i int) {
		e := &ents[stat[i]]
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

// linksOf is a file's number of hard links (0 where the system has none).
func linksOf(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
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
