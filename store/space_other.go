//go:build !unix

package store

import "errors"

func freeBytes(dir string) (int64, error)      { return 0, errors.ErrUnsupported }
func allocatedBytes(dir string) (int64, error) { return 0, errors.ErrUnsupported }
