package tui

import (
	"context"
	"fmt"
	"sort"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
)

// ModelReader is what the models view and the lineage list read. A
// History that also implements it gets m, l and the marker on commits
// that model versions were trained on.
type ModelReader interface {
	// ModelVersions lists every version of every model, each model's
	// newest first.
	ModelVersions(ctx context.Context) ([]*repo.ModelVersion, error)
	// ModelsUsing lists the model versions trained on data containing
	// the commit: a data commit that is it or a descendant of it.
	ModelsUsing(ctx context.Context, id dag.ID) ([]*repo.ModelVersion, error)
}

// ModelVersions lists the versions with the calls dx model list and dx
// model log use.
func (h *RepoHistory) ModelVersions(ctx context.Context) (out []*repo.ModelVersion, err error) {
	err = h.read(ctx, func(r *repo.Repo) error {
		latest, err := r.Models(ctx)
		if err != nil {
			return err
		}
		for _, l := range latest {
			versions, err := r.ModelLog(ctx, l.Name)
			if err != nil {
				return err
			}
			out = append(out, versions...)
		}
		return nil
	})
	return out, err
}

// ModelsUsing answers with the call dx lineage REV uses.
func (h *RepoHistory) ModelsUsing(ctx context.Context, id dag.ID) (out []*repo.ModelVersion, err error) {
	err = h.read(ctx, func(r *repo.Repo) error {
		out, err = r.ModelsUsing(ctx, id.String(), "")
		return err
	})
	return out, err
}

// trainedMsg is every model version, read at the start for the markers.
type trainedMsg struct {
	versions []*repo.ModelVersion
	err      error
}

// readTrained reads the model versions for the markers on the list.
func (m Model) readTrained() tea.Cmd {
	mr, ok := m.history.(ModelReader)
	if !ok {
		return nil
	}
	ctx := m.ctx
	return func() tea.Msg {
		versions, err := mr.ModelVersions(ctx)
		return trainedMsg{versions: versions, err: err}
	}
}

// trainedLoaded indexes the model versions by the data commits they were
// trained on. Without them the list has no markers, which is all a
// failed read costs: it is not worth an error line.
func (m *Model) trainedLoaded(msg trainedMsg) {
	if msg.err != nil {
		return
	}
	m.trainedOn = map[dag.ID][]string{}
	for _, mv := range msg.versions {
		for _, d := range mv.Data {
			m.trainedOn[d.Commit] = append(m.trainedOn[d.Commit], modelName(mv))
		}
	}
	m.detailFor = dag.ID{}
	m.refreshDetail()
}

// modelName is NAME@VERSION, as dx model takes it.
func modelName(mv *repo.ModelVersion) string { return fmt.Sprintf("%s@%d", mv.Name, mv.Version) }

// openModels opens the models view: every version of every model.
func (m Model) openModels() (Model, tea.Cmd) {
	mr, ok := m.history.(ModelReader)
	if !ok {
		m.status = "this history has no models"
		return m, nil
	}
	ctx := m.ctx
	return m.openMenu(modelsMenu, "model versions (Enter: data commit)", "no model versions: dx model register adds one", func() menuMsg {
		versions, err := mr.ModelVersions(ctx)
		return menuMsg{models: versions, err: err}
	})
}

// openLineage lists the model versions trained on data containing the
// selected commit.
func (m Model) openLineage() (Model, tea.Cmd) {
	mr, ok := m.history.(ModelReader)
	id, selected := m.selected()
	if !ok || !selected {
		return m, nil
	}
	ctx := m.ctx
	return m.openMenu(modelsMenu, "trained on data containing "+id.Short(), "no model version was trained on data containing "+id.Short(), func() menuMsg {
		versions, err := mr.ModelsUsing(ctx, id)
		return menuMsg{models: versions, err: err}
	})
}

// modelLines are the models view's lines: name@version, date, the data
// commit (and how many more), the paths trained on, the metrics, and the
// stages the version is on.
func (m Model) modelLines(versions []*repo.ModelVersion) []string {
	lines := make([]string, len(versions))
	for i, mv := range versions {
		data := "no data"
		if len(mv.Data) > 0 {
			data = "data " + m.styles.id.Render(mv.Data[0].Commit.Short())
			if paths := mv.Data[0].Paths; len(paths) > 0 {
				data += ":" + displayPath(strings.Join(paths, ","))
			}
			if len(mv.Data) > 1 {
				data += fmt.Sprintf(" (+%d)", len(mv.Data)-1)
			}
		}
		lines[i] = fmt.Sprintf("%s %s %s  %s", m.styles.decoration.Render(fmt.Sprintf("%-14s", modelName(mv))),
			m.styles.date.Render(strings.SplitN(mv.Time, "T", 2)[0]), data, keyValues(mv.Metrics))
		if len(mv.Stages) > 0 {
			lines[i] += "  " + m.styles.decoration.Render("["+strings.Join(mv.Stages, ",")+"]")
		}
	}
	return lines
}

// keyValues is k=v pairs sorted by key.
func keyValues(kv map[string]string) string {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + kv[k]
	}
	return strings.Join(keys, " ")
}

// jumpToModelData closes the models view and moves the list to the
// version's (first) data commit, paging the log in until it is found.
func (m Model) jumpToModelData(mv *repo.ModelVersion) (Model, tea.Cmd) {
	m.menu = menu{}
	if len(mv.Data) == 0 {
		m.status = modelName(mv) + " names no data commit"
		return m, nil
	}
	return m.jumpTo(mv.Data[0].Commit)
}
