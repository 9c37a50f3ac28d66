// Package contract reads data contracts, the rules a repository's tables
// must keep, from the file dx.contract.yaml at the worktree root, and
// checks rows against them. The file is versioned with the data it
// describes:
//
//	tables:
//	  - path: data/customers.csv     # a path, or a pattern as in .dxattributes
//	    unknown_columns: refuse      # or allow (the default)
//	    rows: {min: 1, max: 1000000} # bounds on the row count
//	    columns:
//	      - name: id
//	        type: int
//	        required: true
//	      - name: email
//	        required: true
//	        unique: true             # no two rows hold the same value
//	        regex: '[^@]+@[^@]+'     # the whole value must match
//	      - name: country
//	        allowed: [FR, DE, US]
//	      - name: amount
//	        type: decimal
//	        min: 0
//	        max: 100000
//
// Types are int, float, decimal, bool, string, date (2006-01-02),
// timestamp (RFC 3339) and json (any JSON value, for JSONL). A value that
// is empty (CSV, TSV) or null or missing (JSONL) is null: only required
// refuses it, the other rules pass it. min and max compare in the
// column's type (strings byte by byte). For every table path that
// several entries match, the last one holds, as in .dxattributes.
//
// A row that breaks a rule gives a Problem: the column, the rule and the
// value; internal/check places it at its line.
package contract
