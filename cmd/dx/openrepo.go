package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dxdata/dx/internal/progress"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
)

// withRepo opens the repository for a command that writes to it.
func (a *app) withRepo(ctx context.Context, fn func(r *repo.Repo) error) error {
	return a.openRepo(ctx, store.ReadWrite, fn)
}

// withRepoRead opens the repository for a command that only reads it: such
// commands share it and work on a full disk.
func (a *app) withRepoRead(ctx context.Context, fn func(r *repo.Repo) error) error {
	return a.openRepo(ctx, store.ReadOnly, fn)
}

// openRepo opens the repository for one command and closes it after,
// printing store counters when --stats is set.
func (a *app) openRepo(ctx context.Context, access store.Access, fn func(r *repo.Repo) error) error {
	opts := repo.Options{Progress: progress.ForStderr(a.quiet), Warn: a.warn, Store: store.Options{Access: access}}
	if v := os.Getenv("DX_DATE"); v != "" {
		t, err := parseDate(v)
		if err != nil {
			return err
		}
		opts.Now = func() time.Time { return t }
	}
	r, err := repo.Open(ctx, a.dir, opts)
	if err != nil {
		return err
	}
	ferr := fn(r)
	var cerr error
	if ferr != nil {
		cerr = r.Store.Abandon()
	} else {
		cerr = r.Close()
	}
	if a.stats {
		b, _ := json.Marshal(r.Store.Stats().Snapshot())
		fmt.Fprintln(a.stderr, string(b))
	}
	if ferr != nil {
		return ferr
	}
	return cerr
}

// parseDate reads DX_DATE, which pins the time of new commits (like git's
// GIT_COMMITTER_DATE) for reproducible IDs: RFC 3339 or @unix-seconds.
func parseDate(v string) (time.Time, error) {
	if strings.HasPrefix(v, "@") {
		n, err := strconv.ParseInt(v[1:], 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("DX_DATE %q: want RFC 3339 or @unix-seconds", v)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("DX_DATE %q: want RFC 3339 or @unix-seconds", v)
	}
	return t, nil
}
