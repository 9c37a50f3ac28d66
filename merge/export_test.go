package merge

import "context"

// SplitRowsForTest exposes splitRows to the external tests.
var SplitRowsForTest = splitRows

// MergeRowsForTest is MergeRows looking for the rows it rewrites misplace
// bytes off where they are; plain: taking no runs whole and diffing both
// sides in full.
func MergeRowsForTest(ctx context.Context, t Table, base, ours, theirs Source, o DiffOptions, misplace int64, plain bool) (*RowMerge, error) {
	return mergeRows(ctx, t, base, ours, theirs, o, testSettings{misplace: misplace, plain: plain})
}
