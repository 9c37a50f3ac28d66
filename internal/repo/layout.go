package repo

import (
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/store"
)

// layoutOf says how the store cuts the file at path: at its Parquet pages
// where table=parquet says so, as plain bytes where another table
// attribute (or -table) says otherwise, and by its magic bytes where no
// attribute speaks.
func layoutOf(attrs *table.Attributes, path string) store.Layout {
	switch f, set := attrs.Format(path); {
	case f == table.Parquet:
		return store.LayoutParquet
	case set:
		return store.LayoutPlain
	}
	return store.LayoutSniff
}
