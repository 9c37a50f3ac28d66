package hugeheap

import (
	"syscall"
	"unsafe"
)

// Map returns n bytes of zeroed anonymous memory outside the Go heap,
// 2 MiB-aligned and advised for transparent huge pages, and the mapping
// to pass to Unmap; nil if the system refuses. For big buffers that are
// reused (pack buffers, download ranges): on the virtual machines
// measured, a first touch of a 4 KiB page is slow enough that copying
// into a fresh buffer runs far below memory speed, while a 2 MiB huge
// page costs about the same as one small page.
func Map(n int) (b, mapping []byte) {
	m, err := syscall.Mmap(-1, 0, n+hugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil
	}
	off := 0
	if r := int(uintptr(unsafe.Pointer(unsafe.SliceData(m))) % hugePage); r != 0 {
		off = hugePage - r
	}
	b = m[off : off+n : off+n]
	// Advice only: without transparent huge pages the memory works the
	// same, at the small-page cost.
	_ = syscall.Madvise(b, 14) // MADV_HUGEPAGE
	return b, m
}

// Unmap releases memory from Map; nothing may use it after.
func Unmap(mapping []byte) {
	if mapping != nil {
		_ = syscall.Munmap(mapping)
	}
}
