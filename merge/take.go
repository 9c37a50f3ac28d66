package merge

import "slices"

// take is a run of the other side's chunks that goes into the merged file
// as it is, in place of the base chunks it replaced, which the host side
// kept as they were: every row change of the run is to be applied. Its
// rows need no rewriting and its chunks no storing. The row diffs still
// read it: they find the changes both sides made to a key, wherever the
// rows went.
type take struct {
	u       *unit // of the diff base → other side
	from    int   // first chunk of the host side it replaces
	n       int   // how many
	changes []*RowChange
	// blind: taken unread (see rangedDiffs); its changes are not known.
	blind bool
}

// findTakes lists the runs of the other side that can be taken whole.
// The merged file then has the other side's cuts in the run and the host
// side's around it, as a fresh chunking of its bytes would, since a cut
// depends on the bytes before it (and the row end after). The exception
// is the chunker's rare fallback, a cut moved back to an earlier row end
// when no row ends between the hash's cut point and the largest chunk
// size: it depends on bytes up to that size ahead, which may differ
// across a boundary. Then the merged File is still the merged bytes, but
// cut differently from a commit of them (the same holds at the start of
// every run storeMerged re-cuts).
//
// A row the other side moved from one run to another (changed or not)
// links the two: taking one and not the other would leave the row twice
// in the result, or not at all. links lists each unit's linked units, and
// only takes whose linked units are all taken are returned (closeTakes).
func findTakes(host, other *tableDiff, apply []*RowChange) ([]*take, map[*unit][]*unit) {
	otherBase, otherNew := other.differ.sides[0], other.differ.sides[1]
	hostBase := host.differ.sides[0] // base, as the diff base → host side saw it
	// Which unit of the other diff holds each of its chunks, on each side.
	unitOf := [2][]int{make([]int, len(otherBase.chunks)), make([]int, len(otherNew.chunks))}
	for k := range unitOf {
		for i := range unitOf[k] {
			unitOf[k][i] = -1
		}
	}
	for ui, u := range other.units {
		for k, r := range u.r {
			if r != nil {
				for i := r.from; i < r.to; i++ {
					unitOf[k][i] = ui
				}
			}
		}
	}
	applied := make(map[*RowChange]bool, len(apply))
	for _, c := range apply {
		applied[c] = true
	}
	changes := make([][]*RowChange, len(other.units))
	bad := make([]bool, len(other.units))
	for i := range other.Changes {
		c := &other.Changes[i]
		var units []int
		if c.Old != nil {
			if k := otherBase.chunkAt(c.Old.Off); k >= 0 && unitOf[0][k] >= 0 {
				units = append(units, unitOf[0][k])
			}
		}
		if c.New != nil {
			if k := otherNew.chunkAt(c.New.Off); k >= 0 && unitOf[1][k] >= 0 {
				units = append(units, unitOf[1][k])
			}
		}
		for _, ui := range units {
			if !applied[c] {
				bad[ui] = true // a conflict, or an outcome both sides reached
			}
			if !slices.Contains(changes[ui], c) {
				changes[ui] = append(changes[ui], c)
			}
		}
	}
	var out []*take
	for ui, u := range other.units {
		if bad[ui] || len(changes[ui]) == 0 {
			continue
		}
		if j, ok := takeable(hostBase, otherNew, u); ok {
			out = append(out, &take{u: u, from: j, n: u.r[0].to - u.r[0].from, changes: changes[ui]})
		}
	}
	links := movedBetween(other.units)
	return closeTakes(out, links), links
}

// movedBetween links the units of a diff between which a row moved: its
// key is among the rows parsed on the old side of one and on the new side
// of another.
func movedBetween(units []*unit) map[*unit][]*unit {
	oldAt := map[string]*unit{}
	for _, u := range units {
		for i := range u.rows[0] {
			oldAt[u.rows[0][i].Key] = u
		}
	}
	links := map[*unit][]*unit{}
	for _, u := range units {
		for i := range u.rows[1] {
			if v := oldAt[u.rows[1][i].Key]; v != nil && v != u {
				if !slices.Contains(links[u], v) {
					links[u] = append(links[u], v)
					links[v] = append(links[v], u)
				}
			}
		}
	}
	return links
}

// closeTakes drops the takes of units linked to a unit not taken, until
// none is left to drop.
func closeTakes(takes []*take, links map[*unit][]*unit) []*take {
	for {
		in := make(map[*unit]bool, len(takes))
		for _, tk := range takes {
			in[tk.u] = true
		}
		kept := make([]*take, 0, len(takes))
		for _, tk := range takes {
			if !slices.ContainsFunc(links[tk.u], func(v *unit) bool { return !in[v] }) {
				kept = append(kept, tk)
			}
		}
		if len(kept) == len(takes) {
			return takes
		}
		takes = kept
	}
}

// takeable reports whether unit u of the diff base → other side (whose
// new side is otherNew) can be taken whole into a file built on the host
// side, whose diff from the base saw the base as hostBase, and at which
// chunk of the host side the base chunks it replaces start.
func takeable(hostBase, otherNew *side, u *unit) (int, bool) {
	a, b := u.r[0], u.r[1]
	if a == nil || b == nil || a.from < 1 || a.to >= len(hostBase.chunks) ||
		b.from < 1 || b.to >= len(otherNew.chunks) || otherNew.partner[b.from-1] != a.from-1 || otherNew.partner[b.to] != a.to {
		return 0, false // (the run replaces base chunks between the same two)
	}
	// The host side kept the base chunks the run replaces, in order:
	// their ends are cuts there too, whatever it changed around them.
	j := hostBase.partner[a.from]
	ok := j >= 0
	for k := a.from; ok && k < a.to; k++ {
		ok = !hostBase.dirty[k] && hostBase.partner[k] == j+(k-a.from)
	}
	return j, ok
}

// placeTakes puts the takes into the merged file, where the host side's
// chunks they replace were kept as they were; it returns the takes placed
// (fewer if a rewritten run reached into some).
func placeTakes(res *RowMerge, host, other *tableDiff, takes []*take) []*take {
	if len(takes) == 0 {
		return nil
	}
	hostNew, otherNew := host.differ.sides[1], other.differ.sides[1]
	at := make(map[int64]*take, len(takes)) // by the offset of the first chunk replaced
	for _, tk := range takes {
		at[hostNew.offs[tk.from]] = tk
	}
	var placed []*take
	pieces := make([]Piece, 0, len(res.Pieces))
	for i := 0; i < len(res.Pieces); {
		pc := res.Pieces[i]
		tk := at[pc.Off]
		if pc.Chunk == nil || tk == nil || i+tk.n > len(res.Pieces) {
			pieces = append(pieces, pc)
			i++
			continue
		}
		whole := true
		for k := 0; k < tk.n && whole; k++ {
			q := res.Pieces[i+k]
			whole = q.Chunk != nil && q.Off == hostNew.offs[tk.from+k]
		}
		if !whole {
			pieces = append(pieces, pc)
			i++
			continue
		}
		for k := tk.u.r[1].from; k < tk.u.r[1].to; k++ {
			c := otherNew.chunks[k]
			pieces = append(pieces, Piece{Chunk: &c, Off: otherNew.offs[k], Other: true})
		}
		placed = append(placed, tk)
		i += tk.n
	}
	res.Pieces = pieces
	return placed
}
