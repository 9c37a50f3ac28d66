package main

// The profile and drift benchmark (issue 19): in the table dataset's
// repository, dx profile of v1 (every chunk computed), then of v2 (only
// the changed chunks), then dx drift v1 v2, each with the page cache
// dropped.

import (
	"encoding/json"
	"fmt"
)

// ProfileResult is the profile and drift benchmark.
type ProfileResult struct {
	// V1Seconds: dx profile of v1, first (no profile in the index);
	// V1Bytes: the bytes it parsed (the whole table).
	V1Seconds float64 `json:"v1_seconds"`
	V1Bytes   int64   `json:"v1_bytes"`
	V1Chunks  int     `json:"v1_chunks"`
	// V2Seconds: dx profile of v2 after v1's; V2Computed of V2Chunks
	// chunks profiled anew, V2Bytes parsed; V2CacheBytes of the other
	// chunks' stored profiles read, in V2CacheReads reads.
	V2Seconds    float64 `json:"v2_seconds"`
	V2Chunks     int     `json:"v2_chunks"`
	V2Computed   int     `json:"v2_chunks_computed"`
	V2Bytes      int64   `json:"v2_bytes"`
	V2CacheBytes int64   `json:"v2_cache_bytes_read"`
	V2CacheReads int64   `json:"v2_cache_reads"`
	// V2Derived: v2's profile was derived from v1's, taking V2RowsOut
	// rows out and putting V2RowsIn in (the rows of its new spans
	// included); V2Bytes are then the changed chunks of both versions.
	V2Derived bool  `json:"v2_derived"`
	V2RowsOut int64 `json:"v2_rows_out"`
	V2RowsIn  int64 `json:"v2_rows_in"`
	// DriftSeconds: dx drift v1 v2 of the table.
	DriftSeconds float64 `json:"drift_seconds"`
	Error        string  `json:"error,omitempty"`
}

// profileStats is what dx profile --json says of its work.
type profileStats struct {
	Chunks     int    `json:"chunks"`
	Computed   int    `json:"chunks_computed"`
	Bytes      int64  `json:"bytes_read"`
	CacheBytes int64  `json:"cache_bytes_read"`
	CacheReads int64  `json:"cache_reads"`
	From       string `json:"derived_from"`
	RowsOut    int64  `json:"rows_out"`
	RowsIn     int64  `json:"rows_in"`
}

// profile runs the profile benchmark in repo, whose HEAD is v2 and
// HEAD~1 v1 of ds.
func (b *bench) profile(ds *dataset, repo string) *ProfileResult {
	res := &ProfileResult{}
	fail := func(format string, args ...any) *ProfileResult {
		res.Error = fmt.Sprintf(format, args...)
		logf("  dx profile benchmark FAILED: %s", res.Error)
		return res
	}
	logf("  dx profile of v1, then of v2, then dx drift v1 v2 ...")
	run := func(rev string) (float64, profileStats, error) {
		r, _ := b.timed(repo, "profile", rev+":"+ds.tablePath, "--json")
		if r.Err != nil {
			return 0, profileStats{}, fmt.Errorf("dx profile %s: %s", rev, r.errLine())
		}
		var st profileStats
		if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
			return 0, st, fmt.Errorf("dx profile --json: %v", err)
		}
		return r.Seconds, st, nil
	}
	s, st, err := run("HEAD~1")
	if err != nil {
		return fail("%v", err)
	}
	res.V1Seconds, res.V1Bytes, res.V1Chunks = s, st.Bytes, st.Chunks
	if s, st, err = run("HEAD"); err != nil {
		return fail("%v", err)
	}
	res.V2Seconds, res.V2Chunks, res.V2Computed, res.V2Bytes = s, st.Chunks, st.Computed, st.Bytes
	res.V2CacheBytes, res.V2CacheReads = st.CacheBytes, st.CacheReads
	res.V2Derived, res.V2RowsOut, res.V2RowsIn = st.From != "", st.RowsOut, st.RowsIn
	r, _ := b.timed(repo, "drift", "HEAD~1", "HEAD", ds.tablePath, "--json")
	if r.Err != nil {
		return fail("dx drift: %s", r.errLine())
	}
	res.DriftSeconds = r.Seconds
	logf("  dx profile of v1: %.2fs (%d chunks, %s) = %.0f MB/s; of v2: %.2fs (%d of %d chunks computed, %s; %s of stored profiles in %d reads) = %.1f%% of v1's; dx drift v1 v2: %.2fs",
		res.V1Seconds, res.V1Chunks, human(res.V1Bytes), mbps(res.V1Bytes, res.V1Seconds),
		res.V2Seconds, res.V2Computed, res.V2Chunks, human(res.V2Bytes), human(res.V2CacheBytes), res.V2CacheReads,
		100*res.V2Seconds/res.V1Seconds, res.DriftSeconds)
	return res
}

// Profile targets (issue 19).
const (
	targetProfileV1    = "profile: dx profile of v1 (first, all chunks) ≥ 150 MB/s"
	targetProfileV2    = "profile: dx profile of v2 after v1's ≤ 10% of v1's time"
	targetProfileDrift = "profile: dx drift v1 v2 < 1 s"
)

// profileMarkdown writes the profile paragraph of the table dataset.
func profileMarkdown(p func(format string, args ...any), r *ProfileResult) {
	if r == nil || r.Error != "" {
		return
	}
	v2 := fmt.Sprintf("%d of %d chunks computed (%s parsed), the others' profiles read from `.dx/derived` (%s in %d reads)",
		r.V2Computed, r.V2Chunks, human(r.V2Bytes), human(r.V2CacheBytes), r.V2CacheReads)
	if r.V2Derived {
		v2 = fmt.Sprintf("derived from v1's stored profile (%s read): %d rows taken out and %d put in (the rows of new chunks included), the changed chunks of both versions read (%d of v2's %d; %s)",
			human(r.V2CacheBytes), r.V2RowsOut, r.V2RowsIn, r.V2Computed, r.V2Chunks, human(r.V2Bytes))
	}
	p("dx profile and drift (each run with the page cache dropped): `dx profile` of v1, no profile stored: %.2f s for %d chunks = %.0f MB/s of the %s table; of v2 after it: %.2f s = %.1f%% of v1's, %s; `dx drift v1 v2` of the table: %.2f s.\n\n",
		r.V1Seconds, r.V1Chunks, mbps(r.V1Bytes, r.V1Seconds), human(r.V1Bytes), r.V2Seconds, 100*r.V2Seconds/r.V1Seconds, v2, r.DriftSeconds)
}

// evaluateProfile adds the profile targets of dataset d.
func evaluateProfile(add func(target, ds, result, format string, args ...any), d string, r *ProfileResult) {
	if r == nil {
		return
	}
	if r.Error != "" {
		for _, t := range []string{targetProfileV1, targetProfileV2, targetProfileDrift} {
			add(t, d, "FAIL", "%s", r.Error)
		}
		return
	}
	rate := mbps(r.V1Bytes, r.V1Seconds)
	add(targetProfileV1, d, passFail(rate >= 150), "%.0f MB/s (%.2f s for %s, %d chunks)", rate, r.V1Seconds, human(r.V1Bytes), r.V1Chunks)
	f := r.V2Seconds / r.V1Seconds
	how := fmt.Sprintf("%d of %d chunks computed", r.V2Computed, r.V2Chunks)
	if r.V2Derived {
		how = fmt.Sprintf("derived from v1's: %d rows out, %d in, %d of %d chunks read", r.V2RowsOut, r.V2RowsIn, r.V2Computed, r.V2Chunks)
	}
	add(targetProfileV2, d, passFail(f <= 0.10), "%.1f%% (%.2f s against %.2f s; %s)", 100*f, r.V2Seconds, r.V1Seconds, how)
	add(targetProfileDrift, d, passFail(r.DriftSeconds < 1), "%.2f s", r.DriftSeconds)
}
