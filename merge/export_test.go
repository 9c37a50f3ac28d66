package merge

import "context"

// SplitRowsForTest exposes splitRows, cutting rows as t reads them, to
// the external tests.
func SplitRowsForTest(data []byte, n int, t Table) [][]byte { return splitRows(data, n, cutterOf(t)) }

// MergeRowsForTest is MergeRows under a policy that looks for the rows it
// rewrites misplace bytes off where they are and, if noShortcuts, takes
// no runs whole and diffs both sides in full.
func MergeRowsForTest(ctx context.Context, t Table, base, ours, theirs Source, o DiffOptions, misplace int64, noShortcuts bool) (*RowMerge, error) {
	in := mergeInput{table: t, base: base, ours: ours, theirs: theirs, opts: o}
	return mergeRows(ctx, in, mergePolicy{misplace: misplace, noShortcuts: noShortcuts})
}

// SetStreamWindows makes a stream read windows of first bytes, doubling
// up to max, instead of the defaults.
func SetStreamWindows(s *RowStream, first, max int) { s.first, s.window = first, max }
