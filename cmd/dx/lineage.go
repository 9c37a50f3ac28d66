package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
)

// lineageOptions are the flags of dx lineage.
type lineageOptions struct {
	limit  int // history shown per data commit
	asJSON bool
}

func (a *app) lineageCmd() *cobra.Command {
	var o lineageOptions
	c := &cobra.Command{
		Use:   "lineage MODEL[@VERSION|@STAGE] | REV | PATH | REV:PATH",
		Short: "What data trained a model, or which models used some data",
		Long: "dx lineage MODEL[@VERSION] lists the data commits (and paths) the version was trained on,\n" +
			"with their history. dx lineage REV, PATH or REV:PATH lists every model version trained on\n" +
			"data containing it: a data commit with REV in its history, whose data covers PATH.",
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runLineage(cmd.Context(), args[0], o)
		},
	}
	c.Flags().BoolVar(&o.asJSON, "json", false, "print as JSON")
	c.Flags().IntVarP(&o.limit, "max-count", "n", 10, "history shown per data commit")
	return c
}

// runLineage prints the data a model version was trained on when arg
// names one; otherwise the model versions trained on data containing arg,
// a revision, a path or REV:PATH.
func (a *app) runLineage(ctx context.Context, arg string, o lineageOptions) error {
	return a.withRepoRead(ctx, func(r *repo.Repo) error {
		if _, err := r.Model(ctx, arg); err == nil {
			l, err := r.ModelLineage(ctx, arg, o.limit)
			if err != nil {
				return err
			}
			if o.asJSON {
				return a.printJSON(l)
			}
			fmt.Fprintf(a.stdout, "%s@%d%s was trained on:\n", l.Model.Name, l.Model.Version, stageSuffix(l.Model.Stages))
			for _, d := range l.Data {
				fmt.Fprintf(a.stdout, "  %s\n", describeData([]repo.ModelData{d.ModelData}))
				for _, e := range d.Log {
					fmt.Fprintf(a.stdout, "    %s %s\n", e.ID.Short(), dag.Subject(e.Message))
				}
			}
			if len(l.Stages) > 0 {
				fmt.Fprintf(a.stdout, "stage moves:\n")
				for _, c := range l.Stages {
					fmt.Fprint(a.stdout, "  ")
					printStageMove(a.stdout, c)
				}
			}
			return nil
		} else if !errors.Is(err, repo.ErrUnknownModel) {
			return err
		} else if name, _, ok := strings.Cut(arg, "@"); ok {
			if _, merr := r.Model(ctx, name); merr == nil {
				return err // a model's unknown version or stage
			}
		}
		rev, p := arg, ""
		if before, after, ok := strings.Cut(arg, ":"); ok {
			rev, p = before, after
		} else if _, err := r.Resolve(ctx, arg); err != nil {
			if !errors.Is(err, repo.ErrUnknownRevision) {
				return err
			}
			rel, err := r.Rel(cwd(), arg)
			if err != nil {
				return fmt.Errorf("lineage: %q is not a model, a revision or a path: %w", arg, err)
			}
			rev, p = "", rel
		}
		ms, err := r.ModelsUsing(ctx, rev, p)
		if err != nil {
			return err
		}
		if o.asJSON {
			if ms == nil {
				ms = []*repo.ModelVersion{}
			}
			return a.printJSON(ms)
		}
		if len(ms) == 0 {
			a.printf("No model version was trained on data containing %s\n", arg)
		}
		for _, m := range ms {
			fmt.Fprintf(a.stdout, "%s@%d %s  %s%s\n", m.Name, m.Version, m.Time, describeData(m.Data), stageSuffix(m.Stages))
		}
		return nil
	})
}
