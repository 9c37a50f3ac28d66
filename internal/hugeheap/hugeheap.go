// Package hugeheap gives big, short-lived allocations transparent huge
// pages: Map for buffers outside the Go heap, Grow for the first part of
// the Go heap.
//
// On the virtual machines dx is measured on, a process's first touch of a
// 4 KiB page is slow (the host backs guest memory lazily), so a command
// that builds a heap of several MiB spends a good part of its run in page
// faults. The same memory in 2 MiB huge pages faults 512 times less
// often. Linux gives huge pages to anonymous memory advised MADV_HUGEPAGE
// (the usual setting, "madvise"), and the Go runtime advises none of its
// heap, so Grow does: it grows the heap by one big allocation, advises its
// range, and frees it with a GC (cheap while the heap is small); the
// runtime hands out the lowest free pages first, so the allocations that
// follow land there.
package hugeheap

import "runtime"

// Grow backs the next n bytes of Go heap with huge pages, where the system
// allows it; elsewhere it does nothing. Call it once, early, in a command
// that will allocate several MiB; a small command would pay more for it
// (an allocation, a system call and a GC, the same whatever n) than it
// saves. Memory the heap never uses costs nothing but address space, but
// a system that counts it may refuse a big n, which the runtime cannot
// survive: n is capped at an eighth of the machine's memory (for strict
// overcommit), and a process whose address space is limited does
// without.
func Grow(n int) {
	n = capped(n, memory())
	if n <= 0 || !supported {
		return
	}
	advise(make([]byte, n)) // garbage once advised
	runtime.GC()
}

// capped is n, at most an eighth of mem bytes (0: unknown, so 0).
func capped(n int, mem uint64) int {
	return int(min(uint64(max(n, 0)), mem/8))
}
