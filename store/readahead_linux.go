package store

import "golang.org/x/sys/unix"

// canHint: hintRead asks the kernel for something.
const canHint = true

// hintRead asks the kernel to read the first n bytes of path into the page
// cache, without waiting for them, and returns the file open (for
// fromFd), or -1; errors are ignored (the reader meets them).
func hintRead(path string, n int64) int {
	fd, err := openFd(path)
	if err != nil {
		return -1
	}
	_ = unix.Fadvise(fd, 0, n, unix.FADV_WILLNEED)
	return fd
}

// closeFd closes a file hintRead opened.
func closeFd(fd int) { _ = unix.Close(fd) }
