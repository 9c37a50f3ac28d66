package merge

import "slices"

// oldIndex holds a streamed diff's old rows by key hash, 40 bytes a row
// in blocks (so that it never copies itself to grow) and an open-address
// table of 4-byte slots, at most half full.
type oldIndex struct {
	keyed   bool
	blocks  [][]oldRow
	n       int
	slots   []int32 // a row's index + 1 at its key hash's place or after; 0: empty
	matched []bool  // per row: a new row matched it
}

// oldRow is an old row in the index: where it is, its key's two hashes
// and its values' hash.
type oldRow struct {
	off         int64
	kh, kh2, vh uint64
	len         uint32
}

const indexBlock = 1 << 14

func newOldIndex(keyed bool) *oldIndex { return &oldIndex{keyed: keyed} }

func (x *oldIndex) row(i int32) *oldRow {
	return &x.blocks[i/indexBlock][i%indexBlock]
}

// add indexes an old row; a keyed table's key must not be there yet.
func (x *oldIndex) add(r *keyedRow) error {
	if 2*(x.n+1) > len(x.slots) {
		x.grow()
	}
	mask := len(x.slots) - 1
	i := int(r.kh) & mask
	for ; x.slots[i] != 0; i = (i + 1) & mask {
		if o := x.row(x.slots[i] - 1); x.keyed && o.kh == r.kh && o.kh2 == r.kh2 {
			return &DuplicateKeyError{Key: r.key}
		}
	}
	if x.n%indexBlock == 0 {
		x.blocks = append(x.blocks, make([]oldRow, 0, indexBlock))
	}
	b := &x.blocks[len(x.blocks)-1]
	*b = append(*b, oldRow{off: r.off, kh: r.kh, kh2: r.kh2, vh: r.vh, len: r.len})
	x.n++
	x.slots[i] = int32(x.n)
	return nil
}

// grow doubles the table and places every row again, in index order (so
// that equal keys keep their order along a probe).
func (x *oldIndex) grow() {
	x.slots = make([]int32, max(1024, 2*len(x.slots)))
	mask := len(x.slots) - 1
	for j := range x.n {
		i := int(x.row(int32(j)).kh) & mask
		for x.slots[i] != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = int32(j + 1)
	}
}

// startMatching readies the index for match, once every old row is in.
func (x *oldIndex) startMatching() {
	x.matched = make([]bool, x.n)
	if x.slots == nil {
		x.grow()
	}
}

// match finds the old row of new row r: it returns r as added if none
// has its key (or, without a key, if every old row equal to it is
// taken), as changed if the values differ, and a zero ChangeRef if they
// do not.
func (x *oldIndex) match(r *keyedRow) (ChangeRef, error) {
	mask := len(x.slots) - 1
	for i := int(r.kh) & mask; x.slots[i] != 0; i = (i + 1) & mask {
		j := x.slots[i] - 1
		o := x.row(j)
		if o.kh != r.kh || o.kh2 != r.kh2 || !x.keyed && x.matched[j] {
			continue
		}
		if x.matched[j] {
			return ChangeRef{}, &DuplicateKeyError{Key: r.key}
		}
		x.matched[j] = true
		if x.keyed && o.vh != r.vh {
			return ChangeRef{OldOff: o.off, OldLen: o.len, NewOff: r.off, NewLen: r.len}, nil
		}
		return ChangeRef{}, nil
	}
	return ChangeRef{NewOff: r.off, NewLen: r.len}, nil
}

// unmatched lists the old rows no new row matched, in file order: the
// removed rows.
func (x *oldIndex) unmatched() []ChangeRef {
	var out []ChangeRef
	for i := range x.n {
		if !x.matched[i] {
			o := x.row(int32(i))
			out = append(out, ChangeRef{OldOff: o.off, OldLen: o.len})
		}
	}
	slices.SortFunc(out, func(a, b ChangeRef) int { return int(a.OldOff - b.OldOff) })
	return out
}
