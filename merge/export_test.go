package merge

// SplitRowsForTest exposes splitRows to the external tests.
var SplitRowsForTest = splitRows
