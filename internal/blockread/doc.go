// Package blockread reads a big file that is read once, about in order
// (goroutines taking its parts in turn), straight from the disk in
// aligned blocks when the page cache does not hold it, the next block
// read ahead. On the machines measured, filling the page cache with a
// cold file cost more system time than parsing it, on a core the work
// wanted; a direct read costs almost none. A file the cache mostly holds
// is read through it.
package blockread
