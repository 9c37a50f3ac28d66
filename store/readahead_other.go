//go:build !linux

package store

const canHint = false

func hintRead(string, int64) {}
