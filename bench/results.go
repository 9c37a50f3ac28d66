package main

// Each dataset's results, one per tool, and the dx measurements on tables.

// DatasetResult holds one dataset's description and one Result per tool.
type DatasetResult struct {
	Name    string    `json:"name"`
	Title   string    `json:"title"`
	V1Bytes int64     `json:"v1_bytes"`
	V1Files int       `json:"v1_files"`
	V1Desc  string    `json:"v1_desc,omitempty"`
	V2Bytes int64     `json:"v2_bytes,omitempty"`
	V2Files int       `json:"v2_files,omitempty"`
	V2Desc  string    `json:"v2_desc,omitempty"`
	Results []*Result `json:"results"`
	Notes   []string  `json:"notes,omitempty"`
}

func (d *DatasetResult) result(tool string) *Result {
	for _, r := range d.Results {
		if r.Tool == tool {
			return r
		}
	}
	return nil
}

// dataset is the dataset named name measured so far, or nil.
func (rep *Report) dataset(name string) *DatasetResult {
	for _, d := range rep.Datasets {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// Result is one tool's numbers on one dataset. Nil pointers were not
// measured (JSON null, "—" in Markdown). MB/s is 10^6 bytes of input per
// wall-clock second; RSS is the process's ru_maxrss.
type Result struct {
	Tool             string   `json:"tool"`
	Version          string   `json:"version,omitempty"`
	Status           string   `json:"status"` // ok, failed, wrong checkout, not installed
	Error            string   `json:"error,omitempty"`
	FirstSeconds     *float64 `json:"first_seconds"`
	FirstMBps        *float64 `json:"first_mb_per_s"`
	FirstStoredBytes *int64   `json:"first_stored_bytes"`
	FirstRSSKiB      *int64   `json:"first_peak_rss_kib"`
	// UncheckedSeconds: the first commit of a table with --no-verify (no
	// table check), measured as FirstSeconds is.
	UncheckedSeconds *float64 `json:"first_unchecked_seconds,omitempty"`
	RecommitSeconds  *float64 `json:"nochange_recommit_seconds"`
	RecommitRatio    *float64 `json:"nochange_recommit_ratio"`
	SecondSeconds    *float64 `json:"second_commit_seconds"`
	GrowthBytes      *int64   `json:"second_growth_bytes"`
	GrowthPct        *float64 `json:"second_growth_pct"`
	CheckoutSeconds  *float64 `json:"checkout_seconds"`
	CheckoutMBps     *float64 `json:"checkout_mb_per_s"`
	CheckoutRSSKiB   *int64   `json:"checkout_peak_rss_kib"`
	// RestoreCeilingMBps: dx debug restore-ceiling of the same commit,
	// same conditions (wall clock, like the checkout's).
	RestoreCeilingMBps *float64        `json:"restore_ceiling_mb_per_s,omitempty"`
	PeakRSSKiB         *int64          `json:"peak_rss_kib"`
	Verify             string          `json:"checkout_verify,omitempty"`
	RowDiff            *RowDiffResult  `json:"row_diff,omitempty"`
	Merge              *MergeResult    `json:"merge,omitempty"`
	Contract           *ContractResult `json:"contract,omitempty"`
	Switch             *SwitchResult   `json:"switch,omitempty"`
	InPlace            *ExtentResult   `json:"in_place,omitempty"`
	Extents            *ExtentResult   `json:"shared_extents,omitempty"`
	Profile            *ProfileResult  `json:"profile,omitempty"`
	Dialect            *DialectResult  `json:"other_dialect,omitempty"`
	DialectQuoted      *DialectResult  `json:"other_dialect_quoted,omitempty"`
	CachesDropped      bool            `json:"caches_dropped"`
	Notes              []string        `json:"notes,omitempty"`
}

// RowDiffResult is `dx diff --rows` between the two versions of a table.
type RowDiffResult struct {
	Seconds     float64 `json:"seconds"`
	BytesTotal  int64   `json:"bytes_total"` // both versions
	BytesRead   int64   `json:"bytes_read"`
	BytesParsed int64   `json:"bytes_parsed"`
	// StoredRead is what it read from the store's packs: the stored
	// (compressed) bytes of every object it got, metadata included.
	StoredRead int64  `json:"stored_bytes_read"`
	Added      int64  `json:"added"`
	Changed    int64  `json:"changed"`
	Removed    int64  `json:"removed"`
	Expected   string `json:"expected"` // what the generator did
	Correct    bool   `json:"correct"`
	// RowsDecoded: rows of a Parquet table decoded (both versions).
	RowsDecoded int64 `json:"rows_decoded,omitempty"`
	// DuckDB: the same diff by DuckDB, for Parquet.
	DuckDB *DuckDBDiffResult `json:"duckdb,omitempty"`
}

// MergeResult is `dx merge` of two branches that each updated a disjoint
// ~0.01% of the table's rows.
type MergeResult struct {
	Seconds    float64 `json:"seconds"`
	RowsOurs   int64   `json:"rows_ours"`
	RowsTheirs int64   `json:"rows_theirs"`
	Applied    int64   `json:"rows_applied"` // theirs' changes written into ours
	// UnreadRuns: runs of theirs' chunks taken whole unread (key ranges
	// showed no key changed on both sides); their rows are not in Applied.
	UnreadRuns int   `json:"unread_runs"`
	Conflicts  int   `json:"conflicts"`
	Correct    bool  `json:"correct"` // the merged table is byte-identical to both edits applied
	PeakRSSKiB int64 `json:"peak_rss_kib"`
	// Note gives the times of the runs Seconds is the median of.
	Note string `json:"note,omitempty"`
	// CpSeconds: cp of the merged table's file, page cache dropped, timed
	// right after each of those runs (the bound of the ≤ 2× cp row).
	CpSeconds []float64 `json:"cp_seconds,omitempty"`
	// WarmSeconds is the same merge again, from the same state, with the
	// page cache as the first left it (0 if not measured).
	WarmSeconds float64 `json:"warm_seconds,omitempty"`
	// Into is the same merge with `dx merge --into`, into a branch that is
	// not checked out: in the store alone, no worktree file written.
	Into  *MergeIntoResult `json:"into,omitempty"`
	Error string           `json:"error,omitempty"`
	// Delta is `dx delta` of a model registered on the table's first
	// version, up to branch b (its ~0.01% update).
	Delta *DeltaResult `json:"delta,omitempty"`
}

// MergeIntoResult is `dx merge --into` of the same two branches.
type MergeIntoResult struct {
	Seconds    float64 `json:"seconds"`
	PeakRSSKiB int64   `json:"peak_rss_kib"`
	Applied    int64   `json:"rows_applied"`
	UnreadRuns int     `json:"unread_runs"`
	// Correct: the merged tree is the one the merge in the worktree made.
	Correct bool   `json:"correct"`
	Note    string `json:"note,omitempty"` // the runs, when it took a median
	// WarmSeconds: the same, page cache warm (median of three; 0 if not
	// measured).
	WarmSeconds float64 `json:"warm_seconds,omitempty"`
	Error       string  `json:"error,omitempty"`
}

// DeltaResult is `dx delta MODEL REV` for a small update of the table.
type DeltaResult struct {
	Seconds     float64 `json:"seconds"`
	Changed     int64   `json:"changed"`
	BytesTotal  int64   `json:"bytes_total"` // both versions
	BytesRead   int64   `json:"bytes_read"`
	BytesParsed int64   `json:"bytes_parsed"`
	Error       string  `json:"error,omitempty"`
}
