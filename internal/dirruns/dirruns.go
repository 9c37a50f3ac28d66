// Package dirruns cuts a list of paths in path order into runs of one
// directory each. Workers that take a run at a time create, write and
// rename files in different directories, not in turn under one
// directory's lock: a checkout's staging and renames, and the restore
// ceiling that bounds them, share it.
package dirruns

// Run is the run [Lo, Hi) of the paths.
type Run struct{ Lo, Hi int }

// Cut cuts n paths in path order, the directory of path i being dirOf(i),
// into runs of one directory each, of at most max paths.
func Cut(n, max int, dirOf func(i int) string) []Run {
	var runs []Run
	for i := 0; i < n; {
		dir := dirOf(i)
		j := i + 1
		for j < n && j-i < max && dirOf(j) == dir {
			j++
		}
		runs = append(runs, Run{i, j})
		i = j
	}
	return runs
}
