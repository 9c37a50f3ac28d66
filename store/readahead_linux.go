package store

import "golang.org/x/sys/unix"

// canHint: hintRead asks the kernel for something.
const canHint = true

// hintRead asks the kernel to read the first n bytes of path into the page
// cache, without waiting for them; errors are ignored (the reader meets
// them).
func hintRead(path string, n int64) {
	fd, err := openFd(path)
	if err != nil {
		return
	}
	_ = unix.Fadvise(fd, 0, n, unix.FADV_WILLNEED)
	_ = unix.Close(fd)
}
