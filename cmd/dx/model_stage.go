package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
)

// stageOptions are the flags of dx model promote and demote.
type stageOptions struct {
	expect  string
	message string
	remove  bool
	asJSON  bool
}

func (a *app) modelPromoteCmd() *cobra.Command {
	var o stageOptions
	c := &cobra.Command{
		Use:   "promote NAME@VERSION STAGE [--expect V|none] [-m MSG]",
		Short: "Put a model's stage (production, staging, …) on a version",
		Long: "dx model promote moves STAGE to the version by compare-and-swap; the move joins the stage's\n" +
			"history (dx model log) and travels with push and fetch. With --expect the stage must be on\n" +
			"version V (none: on no version), or the promotion fails with exit 5 and changes nothing.\n" +
			"--remove takes the stage off its version (as dx model demote NAME STAGE).",
		Args: args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.remove {
				name, ver, ok := strings.Cut(args[0], "@")
				if ok {
					return usageError{fmt.Errorf("--remove takes NAME STAGE, not %s@%s", name, ver)}
				}
				return a.runModelDemote(cmd.Context(), name, args[1], o)
			}
			if !strings.Contains(args[0], "@") {
				return usageError{fmt.Errorf("promote %s: name the version, NAME@VERSION or NAME@STAGE", args[0])}
			}
			return a.runModelPromote(cmd.Context(), repo.PromoteOptions{Spec: args[0], Stage: args[1], Expect: o.expect, Message: o.message}, o.asJSON)
		},
	}
	stageFlags(c, &o)
	c.Flags().BoolVar(&o.remove, "remove", false, "take the stage off its version")
	return c
}

func (a *app) modelDemoteCmd() *cobra.Command {
	var o stageOptions
	c := &cobra.Command{
		Use:   "demote NAME STAGE [--expect V] [-m MSG]",
		Short: "Take a model's stage off its version (kept in the stage's history)",
		Args:  args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.Contains(args[0], "@") {
				return usageError{fmt.Errorf("demote %s: name the model alone, NAME STAGE", args[0])}
			}
			return a.runModelDemote(cmd.Context(), args[0], args[1], o)
		},
	}
	stageFlags(c, &o)
	return c
}

func stageFlags(c *cobra.Command, o *stageOptions) {
	c.Flags().StringVar(&o.expect, "expect", "", "fail (exit 5) unless the stage is on this version now (a number, or none)")
	c.Flags().StringVarP(&o.message, "message", "m", "", "why, kept in the stage's history")
	c.Flags().BoolVar(&o.asJSON, "json", false, "print as JSON")
}

// runModelPromote puts a stage on a version.
func (a *app) runModelPromote(ctx context.Context, o repo.PromoteOptions, asJSON bool) error {
	return a.withRepo(ctx, func(r *repo.Repo) error {
		c, err := r.Promote(ctx, o)
		if err != nil {
			return err
		}
		return a.printStageChange(c, asJSON)
	})
}

// runModelDemote takes a stage off its version.
func (a *app) runModelDemote(ctx context.Context, model, stage string, o stageOptions) error {
	return a.withRepo(ctx, func(r *repo.Repo) error {
		c, err := r.Demote(ctx, model, stage, o.expect, o.message)
		if err != nil {
			return err
		}
		return a.printStageChange(c, o.asJSON)
	})
}

func (a *app) printStageChange(c *repo.StageChange, asJSON bool) error {
	if asJSON {
		return a.printJSON(c)
	}
	switch {
	case c.Unchanged:
		a.printf("%s is on %s@%d already (promoted by %s at %s)\n", c.Stage, c.Model, c.To, oneLine(c.Author), c.Time)
	case c.Action == "demote":
		a.printf("Took %s off %s@%d (%s)\n", c.Stage, c.Model, c.From, c.ID.Short())
	case c.From == 0:
		a.printf("Promoted %s@%d to %s (%s)\n", c.Model, c.To, c.Stage, c.ID.Short())
	default:
		a.printf("Promoted %s@%d to %s, replacing %s@%d (%s)\n", c.Model, c.To, c.Stage, c.Model, c.From, c.ID.Short())
	}
	return nil
}

// printModelHistory prints a model's versions and stage moves, one a line.
func printModelHistory(w io.Writer, events []repo.ModelEvent) {
	for _, e := range events {
		if e.Version != nil {
			m := e.Version
			fmt.Fprintf(w, "%s@%d %s %s  %s%s\n", m.Name, m.Version, m.ID.Short(), m.Time, describeData(m.Data), stageSuffix(m.Stages))
			continue
		}
		printStageMove(w, e.Stage)
	}
}

// printStageMove prints one move of a stage: which, from and to what
// version, who and when, and why.
func printStageMove(w io.Writer, c *repo.StageChange) {
	version := func(v uint64) string {
		if v == 0 {
			return "(none)"
		}
		return fmt.Sprintf("%s@%d", c.Model, v)
	}
	msg := ""
	if c.Message != "" {
		msg = "  " + oneLine(c.Message)
	}
	fmt.Fprintf(w, "%s %s %s: %s → %s  by %s at %s%s\n", c.Action, c.ID.Short(), c.Stage, version(c.From), version(c.To), oneLine(c.Author), c.Time, msg)
}

// stageSuffix is " [production, staging]" for a version's stages.
func stageSuffix(stages []string) string {
	if len(stages) == 0 {
		return ""
	}
	return " [" + strings.Join(stages, ", ") + "]"
}

// runModelStageLog lists the moves of one stage of a model.
func (a *app) runModelStageLog(ctx context.Context, model, stage string, asJSON bool) error {
	return a.withRepoRead(ctx, func(r *repo.Repo) error {
		moves, err := r.StageLog(ctx, model, stage)
		if err != nil {
			return err
		}
		if asJSON {
			return a.printJSON(moves)
		}
		for _, c := range moves {
			printStageMove(a.stdout, c)
		}
		return nil
	})
}
