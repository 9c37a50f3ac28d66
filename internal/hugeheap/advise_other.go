//go:build !linux

package hugeheap

const supported = false

func advise([]byte) {}

func memory() uint64 { return 0 }

// Map returns nil: the caller allocates on the Go heap.
func Map(n int) (b, mapping []byte) { return nil, nil }

// Unmap does nothing.
func Unmap(mapping []byte) {}
