package repo

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// lstatAttr reads what checkObstacles needs of a path with one statx,
// which also reports the immutable and append-only attributes.
func lstatAttr(full string) (fileAttr, error) {
	var st unix.Statx_t
	for {
		err := unix.Statx(unix.AT_FDCWD, full, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_TYPE, &st)
		switch {
		case err == nil:
			fixed := st.Attributes&st.Attributes_mask&(unix.STATX_ATTR_IMMUTABLE|unix.STATX_ATTR_APPEND) != 0
			return fileAttr{exists: true, dir: st.Mode&unix.S_IFMT == unix.S_IFDIR, fixed: fixed}, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTDIR):
			return fileAttr{}, nil
		case errors.Is(err, unix.ENOSYS):
			return lstatPlain(full)
		default:
			return fileAttr{}, &fs.PathError{Op: "statx", Path: full, Err: err}
		}
	}
}

func lstatPlain(full string) (fileAttr, error) {
	fi, err := os.Lstat(full)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
			return fileAttr{}, nil
		}
		return fileAttr{}, err
	}
	return fileAttr{exists: true, dir: fi.IsDir()}, nil
}
