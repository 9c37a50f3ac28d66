package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"
)

// styles are the UI's colours, made by one renderer so that NO_COLOR and
// a terminal without colours turn them all off. Adaptive colours read on
// light and dark backgrounds alike.
type styles struct {
	plain, id, date, author, decoration, model, selected, title, titleFocused, dim, added, deleted, changedCell lipgloss.Style
}

func newStyles(r *lipgloss.Renderer) styles {
	color := func(light, dark string) lipgloss.TerminalColor {
		return lipgloss.AdaptiveColor{Light: light, Dark: dark}
	}
	return styles{
		plain:        r.NewStyle(),
		id:           r.NewStyle().Foreground(color("#A05A00", "#E5C07B")),
		date:         r.NewStyle().Foreground(color("#555555", "#9DA5B4")),
		author:       r.NewStyle().Foreground(color("#0050A0", "#61AFEF")),
		decoration:   r.NewStyle().Foreground(color("#007030", "#98C379")).Bold(true),
		model:        r.NewStyle().Foreground(color("#7A1FA2", "#C678DD")).Bold(true),
		selected:     r.NewStyle().Reverse(true),
		title:        r.NewStyle().Foreground(color("#555555", "#9DA5B4")),
		titleFocused: r.NewStyle().Bold(true),
		dim:          r.NewStyle().Foreground(color("#555555", "#9DA5B4")),
		added:        r.NewStyle().Foreground(color("#007030", "#98C379")),
		deleted:      r.NewStyle().Foreground(color("#B00020", "#E06C75")),
		changedCell:  r.NewStyle().Bold(true).Foreground(color("#8A5A00", "#E5C07B")),
	}
}

// help is the help bubble drawn with these styles (its defaults would use
// lipgloss's global renderer, not the Model's).
func (s styles) help() help.Model {
	h := help.New()
	key := s.titleFocused
	h.Styles = help.Styles{
		Ellipsis: s.dim, ShortKey: key, ShortDesc: s.dim, ShortSeparator: s.dim,
		FullKey: key, FullDesc: s.dim, FullSeparator: s.dim,
	}
	return h
}
