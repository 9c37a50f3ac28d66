package table

import (
	"bytes"
	"encoding/binary"
	"slices"
	"unicode/utf8"

	"github.com/zeebo/blake3"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/csvdialect"
	"github.com/dxdata/dx/merge"
)

// ChunkKeys returns what a chunk's key range depends on beyond its bytes
// (the format and the key columns: their places in header h, or their
// names in JSONL), as a tag, and the function computing it: the least and
// greatest key, in dag.CompareKeys order, of the rows starting in a
// chunk (first: the chunk starts the file, so it starts with the header).
// The function gives up (false) on what it does not read exactly as
// Parse does: a quoted key field, a row with too few fields; in JSONL a
// key field that is an object or array, holds an escape or bad UTF-8 or
// appears twice, a field name with an escape or bad UTF-8. ok is false for a table without a key.
func (r *Reader) ChunkKeys(h merge.Header) (tag [8]byte, rangeOf func(chunk []byte, first bool) (dag.KeyRange, bool), ok bool) {
	if !r.Keyed() {
		return tag, nil, false
	}
	th := blake3.New()
	th.WriteString("dx chunk key range v1\x00")
	th.WriteString(string(r.spec.Format))
	if r.spec.Format == JSONL {
		for _, k := range r.spec.Key {
			th.Write(binary.AppendUvarint([]byte{0}, uint64(len(k))))
			th.WriteString(k)
		}
		copy(tag[:], th.Sum(nil))
		return tag, r.jsonChunkKeys, true
	}
	idx := r.keyIndexes(h.Cols)
	if slices.Contains(idx, -1) {
		return tag, nil, false
	}
	for _, i := range idx {
		th.Write(binary.AppendUvarint([]byte{0}, uint64(i)))
	}
	quoted := r.spec.Format == CSV
	sep := byte('\t')
	if quoted {
		sep = r.d.Comma
		if r.spec.CSVDialect() != csvdialect.Default || r.spec.NoHeader {
			// Another dialect reads the same bytes as other keys.
			th.WriteString("\x00" + r.spec.CSVDialect().String())
			if r.spec.NoHeader {
				th.WriteString(" header=false")
			}
		}
	}
	copy(tag[:], th.Sum(nil))
	need := slices.Max(idx) + 1
	return tag, func(chunk []byte, first bool) (dag.KeyRange, bool) {
		b := chunk
		if first {
			b = bytes.TrimPrefix(b, bom)
			end := len(b)
			if quoted {
				end = r.headerLen(b)
			} else if i := bytes.IndexByte(b, '\n'); i >= 0 {
				end = i + 1
			}
			if end < 0 {
				return dag.KeyRange{}, false
			}
			b = b[end:]
		}
		if quoted && hasLoneCR(b) {
			return dag.KeyRange{}, false // a record ends inside a line
		}
		var kt keyTracker
		vals := make([][]byte, need)
		parts := make([][]byte, len(idx))
		// Without a quote in the chunk, every row is one line.
		q := quoted && bytes.IndexByte(b, r.d.Quote) >= 0
		for len(b) > 0 {
			if b[0] == '\n' || (b[0] == '\r' && len(b) > 1 && b[1] == '\n') {
				b = b[bytes.IndexByte(b, '\n')+1:] // an empty line: no row (csv skips it, and parseLines)
				continue
			}
			rest, ok := r.rowKeys(b, sep, q, vals)
			if !ok {
				return dag.KeyRange{}, false
			}
			b = rest
			for i, j := range idx {
				parts[i] = vals[j]
			}
			kt.add(parts)
		}
		return kt.result()
	}, true
}

// keyTracker keeps the least and greatest key seen.
type keyTracker struct {
	lo, hi       []byte
	loInt, hiInt bool
	seen         bool
	joined       []byte
}

// add sees the key made of parts.
func (kt *keyTracker) add(parts [][]byte) {
	key := parts[0]
	if len(parts) > 1 {
		kt.joined = kt.joined[:0]
		for i, p := range parts {
			if i > 0 {
				kt.joined = append(kt.joined, keySep...)
			}
			kt.joined = append(kt.joined, p...)
		}
		key = kt.joined
	}
	kInt := dag.IntKey(key)
	switch {
	case !kt.seen:
		kt.lo, kt.hi, kt.seen = slices.Clone(key), slices.Clone(key), true
		kt.loInt, kt.hiInt = kInt, kInt
	case dag.CompareClassedKeys(key, kInt, kt.hi, kt.hiInt) > 0: // first: rows sorted by key ascend
		kt.hi, kt.hiInt = append(kt.hi[:0], key...), kInt
	case dag.CompareClassedKeys(key, kInt, kt.lo, kt.loInt) < 0:
		kt.lo, kt.loInt = append(kt.lo[:0], key...), kInt
	}
}

func (kt *keyTracker) result() (dag.KeyRange, bool) {
	return dag.KeyRange{Lo: string(kt.lo), Hi: string(kt.hi)}, kt.seen
}

// jsonChunkKeys is ChunkKeys' function for JSONL: a row is a line.
func (r *Reader) jsonChunkKeys(chunk []byte, first bool) (dag.KeyRange, bool) {
	b := chunk
	if first {
		b = bytes.TrimPrefix(b, bom)
	}
	var kt keyTracker
	parts := make([][]byte, len(r.spec.Key))
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		line = trimCR(line)
		if len(line) == 0 {
			continue
		}
		if !jsonKeys(line, r.spec.Key, parts) {
			return dag.KeyRange{}, false
		}
		kt.add(parts)
	}
	return kt.result()
}

// jsonKeys finds the key fields of a JSON object on one line, as Parse
// keys them: a string's text, any other value as written. It fails on an
// escape or bad UTF-8 in a field name or a key string, on a key field that is an
// object or array, missing or given twice, and on what is not an object.
func jsonKeys(line []byte, names []string, parts [][]byte) bool {
	clear(parts)
	p := skipSpace(line, 0)
	if p >= len(line) || line[p] != '{' {
		return false
	}
	p = skipSpace(line, p+1)
	if p < len(line) && line[p] == '}' {
		return false // no key field
	}
	for {
		if p >= len(line) || line[p] != '"' {
			return false
		}
		end := bytes.IndexByte(line[p+1:], '"')
		if end < 0 {
			return false
		}
		name := line[p+1 : p+1+end]
		if bytes.IndexByte(name, '\\') >= 0 || !utf8.Valid(name) {
			return false // Parse unescapes, and spells bad UTF-8 as U+FFFD
		}
		p = skipSpace(line, p+2+end)
		if p >= len(line) || line[p] != ':' {
			return false
		}
		p = skipSpace(line, p+1)
		k := slices.Index(names, string(name))
		vEnd, ok := skipValue(line, p)
		if !ok {
			return false
		}
		if k >= 0 {
			v := line[p:vEnd]
			switch {
			case parts[k] != nil || len(v) == 0 || v[0] == '{' || v[0] == '[':
				return false
			case v[0] == '"':
				v = v[1 : len(v)-1]
				if bytes.IndexByte(v, '\\') >= 0 || !utf8.Valid(v) {
					return false
				}
			}
			parts[k] = v
		}
		p = skipSpace(line, vEnd)
		if p >= len(line) {
			return false
		}
		if line[p] == '}' {
			if skipSpace(line, p+1) != len(line) {
				return false
			}
			break
		}
		if line[p] != ',' {
			return false
		}
		p = skipSpace(line, p+1)
	}
	for _, v := range parts {
		if v == nil {
			return false
		}
	}
	return true
}

func skipSpace(b []byte, p int) int {
	for p < len(b) && (b[p] == ' ' || b[p] == '\t' || b[p] == '\r' || b[p] == '\n') {
		p++
	}
	return p
}

// skipValue returns the end of the JSON value at p: a string, an object or
// array (brackets counted outside strings), or a literal or number.
func skipValue(b []byte, p int) (int, bool) {
	if p >= len(b) {
		return 0, false
	}
	depth := 0
	for i := p; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if i >= len(b) {
				return 0, false
			}
			if depth == 0 {
				return i + 1, true
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i, i > p
			}
			if depth--; depth == 0 {
				return i + 1, true
			}
		case ',', ' ', '\t', '\r', '\n':
			if depth == 0 {
				return i, i > p
			}
		}
	}
	return len(b), depth == 0 && len(b) > p
}

// rowKeys reads the first len(vals) fields of the row at the start of b
// into vals and returns what follows the row. It fails on a quoted field
// among them, and on a row with fewer fields. b holds no lone CR.
func (r *Reader) rowKeys(b []byte, sep byte, quoted bool, vals [][]byte) (rest []byte, ok bool) {
	nl := bytes.IndexByte(b, '\n')
	line := b
	if nl >= 0 {
		line = b[:nl]
	}
	if !quoted || bytes.IndexByte(line, r.d.Quote) < 0 {
		// The usual row: one line, no quotes.
		line = trimCR(line)
		for f := range vals {
			i := bytes.IndexByte(line, sep)
			if i < 0 {
				if f < len(vals)-1 {
					return nil, false // too few fields
				}
				i = len(line)
			}
			vals[f], line = line[:i], line[min(i+1, len(line)):]
		}
		if nl < 0 {
			return nil, true
		}
		return b[nl+1:], true
	}
	p := 0
	for f := range vals {
		if p < len(b) && b[p] == r.d.Quote {
			return nil, false
		}
		end := p
		for end < len(b) && b[end] != sep && b[end] != '\n' {
			end++
		}
		v := b[p:end]
		if end == len(b) || b[end] == '\n' {
			v = trimCR(v)
			if f < len(vals)-1 {
				return nil, false // too few fields
			}
		}
		vals[f] = v // a quote inside is text
		p = end
		if f < len(vals)-1 {
			p++ // past the separator
		}
	}
	// The rest of the row: to a line end outside quoted fields. b[p] is
	// the separator after the last field read, or its line end.
	if p == len(b) {
		return nil, true
	}
	i, _ := r.d.NextRowEnd(csvdialect.InField, b[p:])
	if i < 0 {
		return nil, false
	}
	return b[p+i+1:], true
}

// hasLoneCR reports whether b holds a CR not followed by LF: a record end
// inside a line.
func hasLoneCR(b []byte) bool {
	for {
		i := bytes.IndexByte(b, '\r')
		if i < 0 {
			return false
		}
		if i+1 == len(b) || b[i+1] != '\n' {
			return true
		}
		b = b[i+2:]
	}
}

// trimCR drops a final '\r' (bytes.TrimSuffix costs a call to compare one
// byte, a quarter of the time here).
func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}
