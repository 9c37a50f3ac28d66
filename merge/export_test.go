package merge

import "context"

// SplitRowsForTest exposes splitRows to the external tests.
var SplitRowsForTest = splitRows

// MergeRowsMisplacedForTest is MergeRows looking for the rows it rewrites
// misplace bytes off where they are.
func MergeRowsMisplacedForTest(ctx context.Context, t Table, base, ours, theirs Source, o DiffOptions, misplace int64) (*RowMerge, error) {
	return mergeRows(ctx, t, base, ours, theirs, o, misplace)
}
