package hugeheap

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	supported = true
	hugePage  = 2 << 20
)

// advise marks the whole huge pages inside b MADV_HUGEPAGE; errors (no
// THP support) leave it as it was.
func advise(b []byte) {
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	off := (p+hugePage-1)&^(hugePage-1) - p
	if off >= uintptr(len(b)) {
		return
	}
	n := (uintptr(len(b)) - off) &^ (hugePage - 1)
	if n == 0 {
		return
	}
	_ = unix.Madvise(b[off:off+n], unix.MADV_HUGEPAGE)
}

// memory is the machine's memory in bytes; 0 if unknown, or if the
// process's address space is limited (the runtime's own reservations
// take much of it, and an allocation it refuses is fatal).
func memory() uint64 {
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_AS, &rl) != nil || rl.Cur != unix.RLIM_INFINITY {
		return 0
	}
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 0
	}
	return uint64(si.Totalram) * uint64(si.Unit)
}
