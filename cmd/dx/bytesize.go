package main

import (
	"fmt"
	"strconv"
	"strings"
)

// byteUnits are the suffixes parseByteSize takes, each a power of 1024.
var byteUnits = []struct {
	suffix string
	shift  uint
}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"T", 40}, {"G", 30}, {"M", 20}, {"K", 10}, {"B", 0}}

// parseByteSize reads a size such as 4GiB, 512MiB or 0: a whole number of
// bytes, or of KiB, MiB, GiB or TiB (K, M, G and T for short).
func parseByteSize(s string) (int64, error) {
	num, shift := strings.TrimSpace(s), uint(0)
	for _, u := range byteUnits {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, shift = strings.TrimSpace(n), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("%q is not a size (a whole number, then B, KiB, MiB, GiB or TiB)", s)
	}
	return n << shift, nil
}
