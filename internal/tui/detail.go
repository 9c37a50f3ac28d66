package tui

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dxdata/dx/internal/repo"
)

// detailText is what the detail pane shows for a commit: what dx show
// prints (header, metadata, message, changed paths with their sizes).
func (m *Model) detailText(res *repo.ShowResult) string {
	s := m.styles
	var b strings.Builder
	b.WriteString(s.id.Render("commit " + res.ID.String()))
	b.WriteString("\n")
	if len(res.Refs) > 0 {
		fmt.Fprintf(&b, "Refs:    %s\n", s.decoration.Render(strings.Join(res.Refs, ", ")))
	}
	if trained := m.trainedOn[res.ID]; len(trained) > 0 {
		fmt.Fprintf(&b, "Models:  %s (trained on it)\n", s.model.Render(strings.Join(trained, ", ")))
	}
	if len(res.Parents) > 0 {
		var ps []string
		for _, p := range res.Parents {
			ps = append(ps, p.Short())
		}
		fmt.Fprintf(&b, "Parents: %s\n", strings.Join(ps, " "))
	}
	fmt.Fprintf(&b, "Author:  %s\n", res.Author)
	fmt.Fprintf(&b, "Date:    %s\n", res.Time.In(m.opts.Location).Format("2006-01-02 15:04:05 -0700"))
	keys := make([]string, 0, len(res.Meta))
	for k := range res.Meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "Meta:    %s=%s\n", k, res.Meta[k])
	}
	b.WriteString("\n")
	for _, l := range strings.Split(strings.TrimRight(res.Message, "\n"), "\n") {
		b.WriteString("    " + l + "\n")
	}
	b.WriteString("\n")
	var before, after uint64
	m.pathsStart = strings.Count(b.String(), "\n")
	for i, c := range res.Changes {
		line := m.changeLine(" ", c)
		if m.focus == detailPane && i == m.pathCursor {
			line = m.changeLine(">", c) + "  (Enter opens)"
		}
		b.WriteString(line + "\n")
		before += c.OldSize
		after += c.NewSize
	}
	fmt.Fprintf(&b, " %d files changed, %s -> %s", len(res.Changes), byteSize(before), byteSize(after))
	return b.String()
}

// changeLine is one changed path after marker (">" when selected, so
// that it shows without colours): its kind, name and size.
func (m Model) changeLine(marker string, c repo.Change) string {
	switch c.Kind {
	case repo.Added:
		return m.styles.added.Render(marker+"A "+displayPath(c.Path)) + "  +" + byteSize(c.NewSize)
	case repo.Deleted:
		return m.styles.deleted.Render(marker+"D "+displayPath(c.Path)) + "  -" + byteSize(c.OldSize)
	case repo.Renamed:
		return marker + "R " + displayPath(c.From) + " => " + displayPath(c.Path) + "  " + byteSize(c.NewSize)
	}
	return marker + "M " + displayPath(c.Path) + "  " + byteSize(c.OldSize) + " -> " + byteSize(c.NewSize)
}

// displayPath quotes a path that would break the screen: one holding a
// control character or bytes that are not UTF-8.
func displayPath(p string) string {
	if !utf8.ValidString(p) || strings.ContainsFunc(p, unicode.IsControl) {
		return strconv.Quote(p)
	}
	return p
}

// byteSize is a size in binary units, as dx show prints it.
func byteSize(n uint64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	value, unit := float64(n)/1024, 0
	for value >= 1024 && unit < 5 {
		value /= 1024
		unit++
	}
	return fmt.Sprintf("%.1f %ciB", value, "KMGTPE"[unit])
}
