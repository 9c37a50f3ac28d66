package tui

import (
	"io"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// TestStylesAdaptToTheBackground: every colour has a light and a dark
// shade, picked by the terminal's background; without colours (NO_COLOR
// gives the Ascii profile) nothing is coloured.
func TestStylesAdaptToTheBackground(t *testing.T) {
	render := func(profile termenv.Profile, dark bool) styles {
		r := lipgloss.NewRenderer(io.Discard)
		r.SetColorProfile(profile)
		r.SetHasDarkBackground(dark)
		return newStyles(r)
	}
	dark, light := render(termenv.TrueColor, true), render(termenv.TrueColor, false)
	cases := []struct {
		name        string
		dark, light lipgloss.Style
		darkRGB     string
		lightRGB    string
	}{
		{"id", dark.id, light.id, "229;192;123", "160;89;0"},
		{"added", dark.added, light.added, "152;195;121", "0;112;48"},
		{"deleted", dark.deleted, light.deleted, "224;108;117", "176;0;32"},
		{"model", dark.model, light.model, "198;120;221", "121;31;162"},
	}
	for _, c := range cases {
		if got := c.dark.Render("x"); !strings.Contains(got, "38;2;"+c.darkRGB) {
			t.Errorf("%s on dark: %q, want %s", c.name, got, c.darkRGB)
		}
		if got := c.light.Render("x"); !strings.Contains(got, "38;2;"+c.lightRGB) {
			t.Errorf("%s on light: %q, want %s", c.name, got, c.lightRGB)
		}
	}
	plain := render(termenv.Ascii, true)
	for _, s := range []lipgloss.Style{plain.id, plain.added, plain.deleted, plain.model, plain.decoration, plain.dim} {
		if got := s.Render("x"); got != "x" {
			t.Errorf("coloured without colours: %q", got)
		}
	}
}
