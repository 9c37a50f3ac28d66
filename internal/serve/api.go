package serve

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
)

// The JSON data API lives under apiPrefix, which is why no bucket may be
// named "v1":
//
//	GET /v1/refs                 branches and tags
//	GET /v1/log/REV?n=N          the log from REV, newest first (n: 100 by default, at most 1000)
//	GET /v1/tree/REV[/PATH]      a directory's entries, or a file's entry
//	GET /v1/rows/REV/PATH?key=K  one row of a table by key (rows.go)
//	GET /v1/diff/FROM/TO[/PATH]  the row diff as JSON lines (apidiff.go)
//	GET /v1/models…, /v1/lineage/REV[/PATH]  models and lineage (apimodels.go)
//
// REV is a key's ref (a branch, a tag, a full commit id, model:NAME@V) or
// any revision dx log takes that holds no "/" (HEAD~2, an abbreviated id).
// With several repositories, ?repo=NAME says which. Requests are
// authenticated as the S3 calls are.
const apiPrefix = "/v1/"

// apiError is an error answer of the data API.
type apiError struct {
	status int
	code   string
	msg    string
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, map[string]any{"error": map[string]string{"code": e.code, "message": e.msg}})
}

// apiErr turns an S3 error (from the shared helpers) into the API's.
func apiErr(e *s3Error) *apiError { return &apiError{e.Status, e.Code, e.Message} }

func notFound(msg string) *apiError { return &apiError{http.StatusNotFound, "NotFound", msg} }

// serveAPI answers a data API request.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeAPIError(w, &apiError{http.StatusMethodNotAllowed, "MethodNotAllowed", "the data API is read-only: GET only"})
		return
	}
	b, e := s.apiBucket(r)
	if e != nil {
		writeAPIError(w, e)
		return
	}
	call, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, apiPrefix), "/")
	var v any
	e2 := b.read(r.Context(), func(rv readView) *s3Error {
		var err *apiError
		switch call {
		case "refs":
			v, err = apiRefs(r.Context(), rv)
		case "log":
			v, err = apiLog(r.Context(), rv, rest, r.URL.Query().Get("n"))
		case "tree":
			v, err = apiTree(r.Context(), rv, rest)
		case "rows":
			v, err = apiRow(r.Context(), rv, rest, r.URL.Query())
		case "diff":
			v, err = apiDiff(r.Context(), rv, rest)
		case "models":
			v, err = apiModels(r.Context(), rv, rest)
		case "lineage":
			v, err = apiLineage(r.Context(), rv, rest)
		default:
			err = notFound("no call /v1/" + call)
		}
		if err != nil {
			return &s3Error{err.status, err.code, err.msg}
		}
		return nil
	})
	if e2 != nil {
		writeAPIError(w, apiErr(e2))
		return
	}
	if lines, ok := v.(jsonLines); ok {
		w.Header().Set("Content-Type", "application/x-ndjson")
		_, _ = w.Write(lines)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// apiBucket is the repository a data API request reads: the only one, or
// the one ?repo names.
func (s *Server) apiBucket(r *http.Request) (*bucket, *apiError) {
	name := r.URL.Query().Get("repo")
	if name == "" {
		if len(s.names) > 1 {
			return nil, &apiError{http.StatusBadRequest, "RepoRequired", "several repositories are served: add ?repo=NAME"}
		}
		name = s.names[0]
	}
	b, ok := s.buckets[name]
	if !ok {
		return nil, notFound("no repository " + strconv.Quote(name))
	}
	return b, nil
}

// apiVersion resolves a data API revision: as a key's ref, else as dx log
// resolves revisions.
func apiVersion(ctx context.Context, rv readView, rev string) (version, *apiError) {
	v, err := resolveRef(ctx, rv.r, rev)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, ErrNoRef) {
		return version{}, apiErr(repoError(err))
	}
	if strings.HasPrefix(rev, modelRefPrefix) {
		return version{}, notFound(err.Error())
	}
	res, err := rv.r.Resolve(ctx, rev)
	if errors.Is(err, repo.ErrUnknownRevision) {
		return version{}, notFound("unknown revision " + strconv.Quote(rev))
	}
	if err != nil {
		return version{}, apiErr(repoError(err))
	}
	return version{commit: res.ID, c: res.Commit}, nil
}

type apiRef struct {
	Name string `json:"name"`
	ID   dag.ID `json:"id"`
}

func apiRefs(ctx context.Context, rv readView) (any, *apiError) {
	out := map[string][]apiRef{"branches": {}, "tags": {}}
	for _, k := range []struct{ kind, prefix string }{{"branches", "refs/heads/"}, {"tags", "refs/tags/"}} {
		refs, names, err := rv.r.Store.Refs(ctx, k.prefix)
		if err != nil {
			return nil, apiErr(repoError(err))
		}
		for _, n := range names {
			out[k.kind] = append(out[k.kind], apiRef{Name: strings.TrimPrefix(n, k.prefix), ID: refs[n]})
		}
	}
	return out, nil
}

func apiLog(ctx context.Context, rv readView, rev, n string) (any, *apiError) {
	limit := 100
	if n != "" {
		l, err := strconv.Atoi(n)
		if err != nil || l <= 0 {
			return nil, &apiError{http.StatusBadRequest, "InvalidArgument", "n must be a positive number"}
		}
		limit = min(l, 1000)
	}
	v, e := apiVersion(ctx, rv, rev)
	if e != nil {
		return nil, e
	}
	entries, err := rv.r.Log(ctx, []string{v.commit.String()}, limit)
	if err != nil {
		return nil, apiErr(repoError(err))
	}
	return entries, nil
}

type apiEntry struct {
	Path string `json:"path"`
	Type string `json:"type"` // file, exec, dir, symlink
	Size uint64 `json:"size"`
	ID   dag.ID `json:"id"`
}

// apiTree lists a directory's entries (for REV alone: the root), or
// describes a file.
func apiTree(ctx context.Context, rv readView, spec string) (any, *apiError) {
	rev, p, _ := strings.Cut(spec, "/")
	p = strings.Trim(p, "/")
	v, e := apiVersion(ctx, rv, rev)
	if e != nil {
		return nil, e
	}
	entry := dag.TreeEntry{Mode: dag.ModeDir, ID: v.c.Tree}
	if p != "" {
		var err error
		entry, err = dag.LookupPath(ctx, rv.r.Store, v.c.Tree, p)
		if errors.Is(err, dag.ErrNotFound) || (err == nil && !v.showsDir(p) && !v.showsFile(p)) {
			return nil, notFound("no path " + strconv.Quote(p) + " in " + rev)
		}
		if err != nil {
			return nil, apiErr(repoError(err))
		}
	}
	join := func(name string) string {
		if p == "" {
			return name
		}
		return p + "/" + name
	}
	if entry.Mode != dag.ModeDir {
		return apiEntry{Path: p, Type: entry.Mode.String(), Size: entry.Size, ID: entry.ID}, nil
	}
	entries, err := dag.ReadTree(ctx, rv.r.Store, entry.ID)
	if err != nil {
		return nil, apiErr(repoError(err))
	}
	out := []apiEntry{}
	for _, e := range entries {
		q := join(e.Name)
		if (e.Mode == dag.ModeDir && !v.showsDir(q)) || (e.Mode != dag.ModeDir && !v.showsFile(q)) {
			continue
		}
		out = append(out, apiEntry{Path: q, Type: e.Mode.String(), Size: e.Size, ID: e.ID})
	}
	return map[string]any{"commit": v.commit, "path": p, "entries": out}, nil
}
