package table

import (
	"bytes"
	"encoding/binary"
	"slices"

	"github.com/zeebo/blake3"

	"github.com/dxdata/dx/merge"
)

// ChunkKeys returns what a chunk's key range depends on beyond its bytes
// (the format and the key columns' places in header h), as a tag, and the
// function computing it: the least and greatest key, in merge.CompareKeys
// order, of the rows starting in a chunk (first: the chunk starts the file,
// so it starts with the header). The function gives up (false) on what it
// does not read exactly as Parse does: a quoted key field, a row with too
// few fields, a JSONL table (its keys are canonical JSON). ok is false for
// a table without a key.
func (r *Reader) ChunkKeys(h merge.Header) (tag [8]byte, rangeOf func(chunk []byte, first bool) (merge.KeyRange, bool), ok bool) {
	if !r.Keyed() || r.spec.Format == JSONL {
		return tag, nil, false
	}
	idx := r.keyIndexes(h.Cols)
	if slices.Contains(idx, -1) {
		return tag, nil, false
	}
	th := blake3.New()
	th.WriteString("dx chunk key range v1\x00")
	th.WriteString(string(r.spec.Format))
	for _, i := range idx {
		th.Write(binary.AppendUvarint([]byte{0}, uint64(i)))
	}
	copy(tag[:], th.Sum(nil))
	quoted := r.spec.Format == CSV
	sep := byte('\t')
	if quoted {
		sep = ','
	}
	need := slices.Max(idx) + 1
	return tag, func(chunk []byte, first bool) (merge.KeyRange, bool) {
		b := chunk
		if first {
			b = bytes.TrimPrefix(b, bom)
			end := headerEnd(b, quoted)
			if end < 0 {
				return merge.KeyRange{}, false
			}
			b = b[end:]
		}
		var lo, hi []byte
		var loInt, hiInt bool
		seen := false
		vals := make([][]byte, need)
		var joined []byte
		// Without a quote in the chunk, every row is one line.
		q := quoted && bytes.IndexByte(b, '"') >= 0
		for len(b) > 0 {
			if b[0] == '\n' || (b[0] == '\r' && len(b) > 1 && b[1] == '\n') {
				b = b[bytes.IndexByte(b, '\n')+1:] // an empty line: no row (csv skips it, and parseLines)
				continue
			}
			rest, ok := rowKeys(b, sep, q, vals)
			if !ok {
				return merge.KeyRange{}, false
			}
			b = rest
			key := vals[idx[0]]
			if len(idx) > 1 {
				joined = joined[:0]
				for i, j := range idx {
					if i > 0 {
						joined = append(joined, keySep...)
					}
					joined = append(joined, vals[j]...)
				}
				key = joined
			}
			kInt := merge.IntKey(key)
			switch {
			case !seen:
				lo, hi, seen = slices.Clone(key), slices.Clone(key), true
				loInt, hiInt = kInt, kInt
			case merge.CompareClassedKeys(key, kInt, hi, hiInt) > 0: // first: rows sorted by key ascend
				hi, hiInt = append(hi[:0], key...), kInt
			case merge.CompareClassedKeys(key, kInt, lo, loInt) < 0:
				lo, loInt = append(lo[:0], key...), kInt
			}
		}
		return merge.KeyRange{Lo: string(lo), Hi: string(hi)}, seen
	}, true
}

// rowKeys reads the first len(vals) fields of the row at the start of b
// into vals and returns what follows the row. It fails on a quoted field
// among them, and on a row with fewer fields.
func rowKeys(b []byte, sep byte, quoted bool, vals [][]byte) (rest []byte, ok bool) {
	nl := bytes.IndexByte(b, '\n')
	line := b
	if nl >= 0 {
		line = b[:nl]
	}
	if !quoted || bytes.IndexByte(line, '"') < 0 {
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
		if p < len(b) && b[p] == '"' {
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
		if bytes.IndexByte(v, '"') >= 0 {
			return nil, false // a bare quote: csv rejects the row
		}
		vals[f] = v
		p = end
		if f < len(vals)-1 {
			p++ // past the separator
		}
	}
	// The rest of the row: to a line end outside quotes.
	in := false
	for {
		i := bytes.IndexByte(b[p:], '\n')
		seg := b[p:]
		if i >= 0 {
			seg = b[p : p+i]
		}
		if bytes.Count(seg, []byte{'"'})%2 == 1 {
			in = !in
		}
		if i < 0 {
			return nil, !in
		}
		if !in {
			return b[p+i+1:], true
		}
		p += i + 1
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
