//go:build !unix

package serve

import "errors"

// freeBytes cannot tell here: fills are bounded by the cache's size alone.
func freeBytes(dir string) (int64, error) { return 0, errors.ErrUnsupported }
