package dag

import (
	"bytes"
	"cmp"
	"strings"
)

// KeyRange is the least and greatest key (in CompareKeys order) of the
// rows that start in a chunk of a table file. It is the one shape of a key
// range in dx: the store records them, internal/table computes them, and a
// merge uses them to tell, without reading the chunks, that two changes
// cannot touch the same key.
type KeyRange struct{ Lo, Hi string }

// CompareKeys is the order of key ranges: keys that are decimal integers
// written canonically (digits only, no leading zero), by value, before all
// others, bytewise. Row numbers and IDs, the usual keys, then make narrow
// ranges over a file sorted by them (bytewise, "99" and "100" would be
// apart). Any total order would be correct; a range only ever widens.
func CompareKeys(a, b string) int {
	if c, ok := classOrder(isCanonicalInt(a), isCanonicalInt(b), len(a), len(b)); ok {
		return c
	}
	return strings.Compare(a, b)
}

// IntKey reports whether a key is in the first class of CompareKeys.
func IntKey(b []byte) bool { return isCanonicalInt(b) }

// CompareClassedKeys is CompareKeys on keys held as bytes, given each
// key's IntKey (for callers comparing one key with many).
func CompareClassedKeys(a []byte, aInt bool, b []byte, bInt bool) int {
	if c, ok := classOrder(aInt, bInt, len(a), len(b)); ok {
		return c
	}
	return bytes.Compare(a, b)
}

// classOrder orders two keys when their classes (integer or not) or, for
// two integers, their lengths tell; false: compare them bytewise.
func classOrder(aInt, bInt bool, la, lb int) (int, bool) {
	switch {
	case aInt && bInt && la != lb:
		return cmp.Compare(la, lb), true
	case aInt && !bInt:
		return -1, true
	case bInt && !aInt:
		return 1, true
	}
	return 0, false
}

func isCanonicalInt[S string | []byte](s S) bool {
	if len(s) == 0 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Union is the least range holding both.
func (r KeyRange) Union(o KeyRange) KeyRange {
	if CompareKeys(o.Lo, r.Lo) < 0 {
		r.Lo = o.Lo
	}
	if CompareKeys(o.Hi, r.Hi) > 0 {
		r.Hi = o.Hi
	}
	return r
}
