package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
)

func (a *app) modelCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "model",
		Short: "Register model versions against the data that trained them",
	}
	var o repo.RegisterOptions
	var params, metrics []string
	var asJSON bool
	register := &cobra.Command{
		Use:   "register NAME --artifact PATH --data REV[:PATH]… [--param k=v]… [--metric k=v]…",
		Short: "Store a model artifact and record a new version of the model",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Artifact == "" {
				return usageError{errors.New("--artifact PATH is required")}
			}
			var err error
			if o.Params, err = keyValues("--param", params); err != nil {
				return err
			}
			if o.Metrics, err = keyValues("--metric", metrics); err != nil {
				return err
			}
			o.Name, o.Dir = args[0], cwd()
			return a.runModelRegister(cmd.Context(), o, asJSON)
		},
	}
	register.Flags().StringVar(&o.Artifact, "artifact", "", "the model file or directory")
	register.Flags().StringArrayVar(&o.Data, "data", nil, "data it was trained on: REV or REV:PATH (repeatable)")
	register.Flags().StringArrayVar(&params, "param", nil, "a training parameter k=v (repeatable)")
	register.Flags().StringArrayVar(&metrics, "metric", nil, "a metric k=v (repeatable)")
	register.Flags().BoolVar(&asJSON, "json", false, "print as JSON")

	var listJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List models and their latest versions",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runModelList(cmd.Context(), listJSON)
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print as JSON")

	var showJSON bool
	show := &cobra.Command{
		Use:   "show NAME[@VERSION|@STAGE]",
		Short: "Show a model version",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runModelShow(cmd.Context(), args[0], showJSON)
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print as JSON")

	var logJSON bool
	logc := &cobra.Command{
		Use:   "log NAME | NAME@STAGE",
		Short: "List a model's versions and the moves of its stages, newest first (of one stage with NAME@STAGE)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if name, stage, ok := strings.Cut(args[0], "@"); ok {
				return a.runModelStageLog(cmd.Context(), name, stage, logJSON)
			}
			return a.runModelLog(cmd.Context(), args[0], logJSON)
		},
	}
	logc.Flags().BoolVar(&logJSON, "json", false, "print as JSON")

	checkout := &cobra.Command{
		Use:   "checkout NAME[@VERSION|@STAGE] DIR",
		Short: "Write a model version's artifact into DIR",
		Args:  args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runModelCheckout(cmd.Context(), args[0], args[1])
		},
	}
	c.AddCommand(register, list, show, logc, checkout, a.modelPromoteCmd(), a.modelDemoteCmd())
	return c
}

// runModelRegister stores a model artifact and records a new version.
func (a *app) runModelRegister(ctx context.Context, o repo.RegisterOptions, asJSON bool) error {
	return a.withRepo(ctx, func(r *repo.Repo) error {
		mv, err := r.RegisterModel(ctx, o)
		if err != nil {
			return err
		}
		if asJSON {
			return a.printJSON(mv)
		}
		a.printf("Registered %s@%d (%s), trained on %s\n", mv.Name, mv.Version, mv.ID.Short(), describeData(mv.Data))
		return nil
	})
}

// runModelList lists the models and their latest versions.
func (a *app) runModelList(ctx context.Context, asJSON bool) error {
	return a.withRepoRead(ctx, func(r *repo.Repo) error {
		ms, err := r.Models(ctx)
		if err != nil {
			return err
		}
		if asJSON {
			if ms == nil {
				ms = []*repo.ModelVersion{}
			}
			return a.printJSON(ms)
		}
		for _, m := range ms {
			fmt.Fprintf(a.stdout, "%s@%d\t%s\t%s%s\n", m.Name, m.Version, m.Time, describeData(m.Data), modelStages(m))
		}
		return nil
	})
}

// runModelShow prints the model version NAME[@VERSION].
func (a *app) runModelShow(ctx context.Context, nameVersion string, asJSON bool) error {
	return a.withRepoRead(ctx, func(r *repo.Repo) error {
		mv, err := r.Model(ctx, nameVersion)
		if err != nil {
			return err
		}
		if asJSON {
			return a.printJSON(mv)
		}
		printModel(a, mv)
		return nil
	})
}

// runModelLog lists a model's versions and stage moves, newest first.
func (a *app) runModelLog(ctx context.Context, name string, asJSON bool) error {
	return a.withRepoRead(ctx, func(r *repo.Repo) error {
		events, err := r.ModelHistory(ctx, name)
		if err != nil {
			return err
		}
		if asJSON {
			return a.printJSON(events)
		}
		printModelHistory(a.stdout, events)
		return nil
	})
}

// runModelCheckout writes the artifact of NAME[@VERSION] into dir.
func (a *app) runModelCheckout(ctx context.Context, nameVersion, dir string) error {
	return a.withRepo(ctx, func(r *repo.Repo) error {
		mv, n, err := r.ModelCheckout(ctx, nameVersion, dir)
		if err != nil {
			return err
		}
		a.printf("Wrote %s@%d into %s (%d files)\n", mv.Name, mv.Version, dir, n)
		return nil
	})
}

func keyValues(flag string, kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageError{fmt.Errorf("%s %q: want key=value", flag, kv)}
		}
		m[k] = v
	}
	return m, nil
}

func describeData(ds []repo.ModelData) string {
	var parts []string
	for _, d := range ds {
		if len(d.Paths) == 0 {
			parts = append(parts, d.Commit.Short())
			continue
		}
		for _, p := range d.Paths {
			parts = append(parts, d.Commit.Short()+":"+quotePath(p))
		}
	}
	return strings.Join(parts, ", ")
}

func printModel(a *app, m *repo.ModelVersion) {
	fmt.Fprintf(a.stdout, "model    %s@%d (%s)\n", m.Name, m.Version, m.ID)
	fmt.Fprintf(a.stdout, "time     %s\n", m.Time)
	fmt.Fprintf(a.stdout, "artifact %s (%s)\n", m.Artifact.Short(), humanBytes(int64(m.Size)))
	fmt.Fprintf(a.stdout, "data     %s\n", describeData(m.Data))
	if m.CodeRev != "" {
		dirty := ""
		if m.Dirty {
			dirty = " (with uncommitted changes)"
		}
		fmt.Fprintf(a.stdout, "code     %s%s\n", m.CodeRev, dirty)
	}
	for _, kv := range []struct {
		name string
		m    map[string]string
	}{{"param", m.Params}, {"metric", m.Metrics}} {
		keys := make([]string, 0, len(kv.m))
		for k := range kv.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(a.stdout, "%-8s %s=%s\n", kv.name, k, kv.m[k])
		}
	}
	if m.Previous != "" {
		fmt.Fprintf(a.stdout, "previous %s\n", m.Previous[:12])
	}
	if len(m.ModelStages) > 0 {
		fmt.Fprintf(a.stdout, "stages   %s\n", strings.TrimPrefix(modelStages(m), "\t"))
	}
}

// modelStages lists a model's stages and their versions, "this version"
// for those on m: "\tproduction (this version), staging (churn@3)".
func modelStages(m *repo.ModelVersion) string {
	names := make([]string, 0, len(m.ModelStages))
	for s := range m.ModelStages {
		names = append(names, s)
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, s := range names {
		where := fmt.Sprintf("%s@%d", m.Name, m.ModelStages[s])
		if m.ModelStages[s] == m.Version {
			where = "this version"
		}
		parts[i] = fmt.Sprintf("%s (%s)", s, where)
	}
	return "\t" + strings.Join(parts, ", ")
}
