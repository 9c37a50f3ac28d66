package profile

import (
	"bytes"
	"hash/fnv"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
)

// Cache keys. A file's profile: "f", the encoding version, the table
// spec, NUL, the File's id. A span's: "s", the version, the spec, NUL,
// the header's hash (8 bytes), its flags (spanFlags), its chunks' ids;
// its tail's, the same and "t". A Parquet segment's: "q", the version,
// the schema's hash, the segment's id (or "b" and its bytes' hash).

// fileKeyOf is the cache key of the profile of File id, a table of spec.
// FileKey is the key of a table version's whole profile: File id under
// spec.
func FileKey(spec table.Spec, id dag.ID) string { return fileKeyOf(spec.String(), id) }

func fileKeyOf(spec string, id dag.ID) string {
	return "f" + string(rune(encodingVersion)) + spec + "\x00" + string(id[:])
}

// spanKeyPrefix is what the cache keys of a table's spans start with: a
// table of spec whose header has cols.
func spanKeyPrefix(spec string, cols []string) string {
	hh := fnv.New64a()
	for _, c := range cols {
		hh.Write([]byte(c))
		hh.Write([]byte{0})
	}
	return "s" + string(rune(encodingVersion)) + spec + "\x00" + string(hh.Sum(nil))
}

// KeyNames calls fn with each stored object that a cache key names (a
// span's chunks, a file's id), for gc to drop the entries of objects it
// collects; false: the key is of another encoding version, or none of
// this package's, and of no use. A Parquet segment's key names none.
func KeyNames(key []byte, fn func(id dag.ID)) bool {
	version := []byte(string(rune(encodingVersion)))
	if len(key) < 1+len(version) || !bytes.Equal(key[1:1+len(version)], version) {
		return false
	}
	kind, rest := key[0], key[1+len(version):]
	if kind == 'q' {
		return true
	}
	nul := bytes.IndexByte(rest, 0)
	if nul < 0 {
		return false
	}
	ids := rest[nul+1:]
	switch kind {
	case 'f':
		if len(ids) != dag.IDSize {
			return false
		}
	case 's':
		if len(ids) < 9 {
			return false
		}
		ids = ids[9:] // the header's hash and the span's flags
		if len(ids)%dag.IDSize == 1 && ids[len(ids)-1] == 't' {
			ids = ids[:len(ids)-1]
		}
		if len(ids) == 0 || len(ids)%dag.IDSize != 0 {
			return false
		}
	default:
		return false
	}
	for ; len(ids) > 0; ids = ids[dag.IDSize:] {
		fn(dag.ID(ids[:dag.IDSize]))
	}
	return true
}
