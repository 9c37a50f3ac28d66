package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/dxdata/dx/internal/repo"
)

// warn prints a warning on stderr, unless quiet.
func (a *app) warn(msg string) {
	if !a.quiet {
		fmt.Fprintln(a.stderr, "dx: warning: "+oneLine(msg))
	}
}

// info is where a command says what it did: stdout, or nowhere with
// --quiet. What is itself the result (a listing, a diff, a file's content,
// merge conflicts) goes to a.stdout whatever the flag.
func (a *app) info() io.Writer {
	if a.quiet {
		return io.Discard
	}
	return a.stdout
}

// printf prints to info.
func (a *app) printf(format string, args ...any) {
	fmt.Fprintf(a.info(), format, args...)
}

// printJSON writes v to stdout as indented JSON, without HTML escapes.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// printJSONLine writes v to stdout as one line of JSON (a stream of
// them: one per event).
func (a *app) printJSONLine(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// humanBytes is a byte count in binary units, one decimal.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// shortID is an object ID as printed: its first 12 hex digits.
func shortID(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// changeLetter is a change's kind as one letter (status --short).
func changeLetter(k repo.ChangeKind) string {
	switch k {
	case repo.Added:
		return "A"
	case repo.Deleted:
		return "D"
	case repo.Renamed:
		return "R"
	}
	return "M"
}

// printChanges lists changes, one a line.
func printChanges(w io.Writer, cs []repo.Change, short bool) {
	for _, c := range cs {
		name := changeName(c, " -> ")
		if short {
			fmt.Fprintf(w, "%s %s\n", changeLetter(c.Kind), name)
		} else {
			fmt.Fprintf(w, "  %-9s %s\n", string(c.Kind)+":", name)
		}
	}
}

// printChangesNUL lists changes as status -z does, for programs: a
// letter, a space and the path, unquoted and ended by a NUL byte; a
// rename's source follows as one more NUL-ended field (git's order).
func printChangesNUL(w io.Writer, cs []repo.Change) {
	for _, c := range cs {
		fmt.Fprintf(w, "%s %s\x00", changeLetter(c.Kind), c.Path)
		if c.Kind == repo.Renamed {
			fmt.Fprintf(w, "%s\x00", c.From)
		}
	}
}

// printNames lists the changed paths, one a line and quoted, or with nul
// unquoted and each ended by a NUL byte.
func printNames(w io.Writer, cs []repo.Change, nul bool) {
	for _, c := range cs {
		if nul {
			fmt.Fprintf(w, "%s\x00", c.Path)
		} else {
			fmt.Fprintln(w, quotePath(c.Path))
		}
	}
}

// printStat lists changes with their sizes, then a summary line (diff
// --stat, show).
func printStat(a *app, cs []repo.Change) {
	width := 0
	for _, c := range cs {
		if n := len(displayName(c)); n > width {
			width = n
		}
	}
	if width > 60 {
		width = 60
	}
	var before, after int64
	for _, c := range cs {
		fmt.Fprintf(a.stdout, " %s %-*s | %s\n", changeLetter(c.Kind), width, displayName(c), sizeChange(c))
		before += int64(c.OldSize)
		after += int64(c.NewSize)
	}
	fmt.Fprintf(a.stdout, " %d files changed, %s -> %s\n", len(cs), humanBytes(before), humanBytes(after))
}

// displayName is a change's path for printStat.
func displayName(c repo.Change) string { return changeName(c, " => ") }

// sizeChange is how a change moved a file's size, for printStat.
func sizeChange(c repo.Change) string {
	switch c.Kind {
	case repo.Added:
		return "+" + humanBytes(int64(c.NewSize))
	case repo.Deleted:
		return "-" + humanBytes(int64(c.OldSize))
	case repo.Renamed:
		return humanBytes(int64(c.NewSize))
	}
	return humanBytes(int64(c.OldSize)) + " -> " + humanBytes(int64(c.NewSize))
}

// printRefs lists branches or tags, the current branch starred when
// mark is set.
func (a *app) printRefs(rs []repo.RefInfo, asJSON, mark bool) error {
	if asJSON {
		if rs == nil {
			rs = []repo.RefInfo{}
		}
		return a.printJSON(rs)
	}
	for _, b := range rs {
		prefix := ""
		if mark {
			prefix = "  "
			if b.Current {
				prefix = "* "
			}
		}
		fmt.Fprintf(a.stdout, "%s%s %s %s\n", prefix, b.Name, b.ID.Short(), b.Subject)
	}
	return nil
}
