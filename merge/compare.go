package merge

import "slices"

// compare matches the parsed rows of the units by key (by whole content
// for a table without a key) and lists the changes.
func (d *differ) compare(units []*unit) (*RowDiff, error) {
	res := &RowDiff{OldHeader: d.sides[0].header, NewHeader: d.sides[1].header}
	keyed := d.table.Keyed()
	type ref struct{ u, i int }
	var old map[string]ref
	oldCount := map[string]int{}
	if keyed {
		n := 0
		for _, u := range units {
			n += len(u.rows[0])
		}
		old = make(map[string]ref, n)
	}
	for ui, u := range units {
		for i := range u.rows[0] {
			r := &u.rows[0][i]
			if keyed {
				if _, dup := old[r.Key]; dup {
					return nil, sideErr(0, &DuplicateKeyError{Key: r.Key})
				}
				old[r.Key] = ref{ui, i}
			} else {
				oldCount[r.Key]++
			}
		}
	}
	nNew := 0
	for _, u := range units {
		nNew += len(u.rows[1])
	}
	seenNew := make(map[string]bool, nNew)
	var changed []RowChange
	added := make([]RowChange, 0, nNew)
	for _, u := range units {
		for i := range u.rows[1] {
			r := &u.rows[1][i]
			if keyed {
				if seenNew[r.Key] {
					return nil, sideErr(1, &DuplicateKeyError{Key: r.Key})
				}
				seenNew[r.Key] = true
				o, ok := old[r.Key]
				if !ok {
					added = append(added, RowChange{Kind: RowAdded, Key: r.Key, New: r})
					continue
				}
				or := &units[o.u].rows[0][o.i]
				delete(old, r.Key)
				if cols := changedColumns(or, r); len(cols) > 0 {
					changed = append(changed, RowChange{Kind: RowChanged, Key: r.Key, Old: or, New: r, Columns: cols})
				}
				continue
			}
			if oldCount[r.Key] > 0 {
				oldCount[r.Key]--
				continue
			}
			added = append(added, RowChange{Kind: RowAdded, Key: r.Key, New: r})
		}
	}
	for _, u := range units {
		for i := range u.rows[0] {
			r := &u.rows[0][i]
			if keyed {
				if _, ok := old[r.Key]; ok {
					res.Changes = append(res.Changes, RowChange{Kind: RowRemoved, Key: r.Key, Old: r})
				}
				continue
			}
			if oldCount[r.Key] > 0 {
				oldCount[r.Key]--
				res.Changes = append(res.Changes, RowChange{Kind: RowRemoved, Key: r.Key, Old: r})
			}
		}
	}
	all := make([]RowChange, 0, len(res.Changes)+len(changed)+len(added))
	res.Changes = append(append(append(all, res.Changes...), changed...), added...)
	d.stats.BytesTotal = d.sides[0].size + d.sides[1].size
	d.stats.Chunks = len(d.sides[0].chunks) + len(d.sides[1].chunks)
	res.Stats = d.stats
	res.Stats.FullParse = !d.opts.Aligned
	return res, nil
}

// changedColumns lists, in the new row's column order, the columns whose
// values differ, then the columns only the old row has.
func changedColumns(o, n *Row) []string {
	if slices.Equal(o.Cols, n.Cols) {
		var out []string
		for i := range n.Vals {
			if o.Vals[i] != n.Vals[i] {
				out = append(out, n.Cols[i])
			}
		}
		return out
	}
	var out []string
	for i, c := range n.Cols {
		if v, ok := o.Value(c); !ok || v != n.Vals[i] {
			out = append(out, c)
		}
	}
	for _, c := range o.Cols {
		if _, ok := n.Value(c); !ok {
			out = append(out, c)
		}
	}
	return out
}
