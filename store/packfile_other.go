//go:build !linux

package store

const oDirect = 0
