package profile

import "slices"

// Profile is the profile of a table's rows: their count and each
// column's figures.
type Profile struct {
	Rows int64
	// Header is a CSV or TSV table's columns, in order; nil for JSONL,
	// whose columns are those its rows name.
	Header  []string
	Columns []*Column
}

// Column returns the named column's profile, or nil.
func (p *Profile) Column(name string) *Column {
	for _, c := range p.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Merge adds o (a profile of other rows of the same table) to p.
func (p *Profile) Merge(o *Profile) {
	p.Rows += o.Rows
	if p.Header == nil {
		p.Header = o.Header
	}
	for _, oc := range o.Columns {
		if c := p.Column(oc.Name); c != nil {
			c.merge(oc)
		} else {
			p.Columns = append(p.Columns, oc.clone())
		}
	}
}

// finish readies a whole file's profile: columns in the header's order
// (JSONL: by name), and value counts bounded.
func (p *Profile) finish() {
	order := func(name string) int {
		if i := slices.Index(p.Header, name); i >= 0 {
			return i
		}
		return len(p.Header)
	}
	slices.SortStableFunc(p.Columns, func(a, b *Column) int {
		if oa, ob := order(a.Name), order(b.Name); oa != ob {
			return oa - ob
		}
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	for _, c := range p.Columns {
		c.finish()
	}
}

// Nulls is how many of the profile's rows have no value in column c.
func (p *Profile) Nulls(c *Column) int64 { return p.Rows - c.Values }
