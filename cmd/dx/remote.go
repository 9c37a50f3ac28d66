package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/remote"
)

// remoteFlags are the options of an S3 remote.
func remoteFlags(c *cobra.Command, cfg *remote.Config) {
	c.Flags().StringVar(&cfg.Endpoint, "endpoint", "", "S3 endpoint, host:port or http(s)://host:port (default $AWS_ENDPOINT_URL, else AWS)")
	c.Flags().StringVar(&cfg.Region, "region", "", "S3 region (default $AWS_REGION)")
	c.Flags().BoolVar(&cfg.PathStyle, "path-style", false, "address buckets as endpoint/bucket (most local S3 servers)")
	c.Flags().BoolVar(&cfg.Insecure, "insecure", false, "plain http, for local servers")
}

func (a *app) remoteCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "remote",
		Short: "Manage remotes (s3://bucket/prefix or file:///path)",
		Long: "Remotes are S3 buckets (s3://bucket/prefix) or directories (file:///path).\n" +
			"Credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the AWS shared\n" +
			"credentials and config files (AWS_PROFILE); they are never stored in .dx/.",
	}
	var cfg remote.Config
	add := &cobra.Command{
		Use:   "add NAME URL",
		Short: "Add a remote",
		Args:  args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.URL = args[1]
			return a.runRemoteAdd(cmd.Context(), args[0], cfg)
		},
	}
	remoteFlags(add, &cfg)
	var asJSON bool
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List remotes",
		Args:    args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runRemoteList(cmd.Context(), asJSON)
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	rm := &cobra.Command{
		Use:     "remove NAME",
		Aliases: []string{"rm"},
		Short:   "Remove a remote and its remote-tracking branches",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runRemoteRemove(cmd.Context(), args[0])
		},
	}
	c.AddCommand(add, list, rm)
	return c
}

// runRemoteAdd adds the remote name.
func (a *app) runRemoteAdd(ctx context.Context, name string, cfg remote.Config) error {
	return a.withRepo(ctx, func(r *repo.Repo) error {
		return r.AddRemote(name, cfg)
	})
}

// runRemoteList lists the remotes.
func (a *app) runRemoteList(ctx context.Context, asJSON bool) error {
	return a.withRepoRead(ctx, func(r *repo.Repo) error {
		rs, err := r.Remotes()
		if err != nil {
			return err
		}
		if asJSON {
			if rs == nil {
				rs = []repo.RemoteInfo{}
			}
			return a.printJSON(rs)
		}
		for _, x := range rs {
			extra := ""
			if x.Endpoint != "" {
				extra = " (endpoint " + x.Endpoint + ")"
			}
			fmt.Fprintf(a.stdout, "%s\t%s%s\n", x.Name, x.URL, extra)
		}
		return nil
	})
}

// runRemoteRemove removes the remote name and its remote-tracking
// branches.
func (a *app) runRemoteRemove(ctx context.Context, name string) error {
	return a.withRepo(ctx, func(r *repo.Repo) error {
		return r.RemoveRemote(ctx, name)
	})
}
