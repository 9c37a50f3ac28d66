package cdcwrite

import "fmt"

// Options are the bounds of pages and row groups, in bytes of values as
// the hash sees them (levels and plain bytes, before encoding and
// compression).
type Options struct {
	// A page of a column ends after the row in which, past MinPage
	// bytes, the top PageBits bits of the column's hash were zero (on
	// average every 2^PageBits bytes), and by MaxPage at the latest.
	MinPage, MaxPage int64
	PageBits         int
	// A row group ends likewise, by a hash over the whole row.
	MinGroup, MaxGroup int64
	GroupBits          int
}

// DefaultOptions: pages of 4 KiB of values plus 2^12 bytes on average
// (8 KiB), at most 32 KiB; row groups of 64 MiB plus 2^26 bytes on average
// (128 MiB), at most 512 MiB.
//
// Arrow's defaults are pages of 256 KiB to 1 MiB, for Hugging Face's Xet
// store, whose chunks are 64 KiB and which cuts pages itself. dx cuts a
// Parquet file at its pages (store/chunker/parquetcut), a page of 2 KiB or
// more being a chunk of its own, so a page is what a changed row costs: a
// page of 8 KiB of values is 2 to 4 KiB of zstd, and a scattered update
// stores that much per column it touches. Smaller pages fall below 2 KiB
// and are grouped again; larger ones cost more per update. Both cost more
// on the bench's table (bench/RESULTS.md); the price is a larger file
// than with 256 KiB pages, as zstd compresses each page alone.
func DefaultOptions() Options {
	return Options{
		MinPage: 4 << 10, MaxPage: 32 << 10, PageBits: 12,
		MinGroup: 64 << 20, MaxGroup: 512 << 20, GroupBits: 26,
	}
}

// Validate checks that each minimum is positive and below its maximum and
// that the bit counts are in [1, 48].
func (o Options) Validate() error {
	switch {
	case o.MinPage <= 0 || o.MaxPage <= o.MinPage:
		return fmt.Errorf("cdcwrite: page bounds [%d, %d]: want 0 < min < max", o.MinPage, o.MaxPage)
	case o.MinGroup <= 0 || o.MaxGroup <= o.MinGroup:
		return fmt.Errorf("cdcwrite: row group bounds [%d, %d]: want 0 < min < max", o.MinGroup, o.MaxGroup)
	case o.PageBits < 1 || o.PageBits > 48 || o.GroupBits < 1 || o.GroupBits > 48:
		return fmt.Errorf("cdcwrite: hash bits %d (page), %d (row group): want 1 to 48", o.PageBits, o.GroupBits)
	}
	return nil
}
