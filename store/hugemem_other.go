//go:build !linux

package store

func mapHuge(n int) (b, mapping []byte) { return nil, nil }

func unmapHuge(mapping []byte) {}
