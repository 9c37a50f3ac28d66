package serve

import (
	"context"
	"errors"
	"strings"

	"github.com/dxdata/dx/internal/repo"
)

// The data API's model calls, answered as dx model and dx lineage answer
// with --json:
//
//	GET /v1/models                      the latest version of every model
//	GET /v1/models/NAME                 a model's versions, newest first
//	GET /v1/models/NAME@V               one version (or NAME@STAGE)
//	GET /v1/models/NAME@V/lineage       the data it was trained on, with its history
//	GET /v1/lineage/REV[/PATH]          the model versions trained on data containing REV (and PATH)

func apiModels(ctx context.Context, rv readView, rest string) (any, *apiError) {
	spec, sub, _ := strings.Cut(rest, "/")
	var v any
	var err error
	switch {
	case spec == "":
		v, err = rv.r.Models(ctx)
	case sub == "lineage":
		v, err = rv.r.ModelLineage(ctx, spec, 100)
	case sub != "":
		return nil, notFound("no call /v1/models/" + rest)
	case strings.Contains(spec, "@"):
		v, err = rv.r.Model(ctx, spec)
	default:
		v, err = rv.r.ModelLog(ctx, spec)
	}
	return v, modelError(err)
}

func apiLineage(ctx context.Context, rv readView, rest string) (any, *apiError) {
	rev, p, _ := strings.Cut(rest, "/")
	ver, e := apiVersion(ctx, rv, rev)
	if e != nil {
		return nil, e
	}
	ms, err := rv.r.ModelsUsing(ctx, ver.commit.String(), strings.Trim(p, "/"))
	if ms == nil && err == nil {
		ms = []*repo.ModelVersion{}
	}
	return ms, modelError(err)
}

// modelError turns an error of the model calls into the API's.
func modelError(err error) *apiError {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, repo.ErrUnknownModel), errors.Is(err, repo.ErrUnknownRevision), errors.Is(err, repo.ErrPathspec):
		return notFound(err.Error())
	}
	return apiErr(repoError(err))
}
