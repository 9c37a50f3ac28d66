package store

import "golang.org/x/sys/unix"

// canHint: hintRead asks the kernel for something.
const canHint = true

// hintRead asks the kernel to read the first n bytes of path into the page
// cache, without waiting for them; errors are ignored (the reader meets
// them).
func hintRead(path string, n int64) {
	const flags = unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK
	fd, err := unix.Open(path, flags|unix.O_NOATIME, 0)
	if err == unix.EPERM {
		fd, err = unix.Open(path, flags, 0)
	}
	if err != nil {
		return
	}
	_ = unix.Fadvise(fd, 0, n, unix.FADV_WILLNEED)
	_ = unix.Close(fd)
}
