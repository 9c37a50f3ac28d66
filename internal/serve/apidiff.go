package serve

import (
	"bytes"
	"context"
	"strings"

	"github.com/dxdata/dx/internal/repo"
)

// jsonLines is an answer of the data API written as JSON lines
// (application/x-ndjson) rather than one JSON value.
type jsonLines []byte

// apiDiff answers GET /v1/diff/FROM/TO[/PATH]: the row diff of the tables
// changed from FROM to TO (under PATH), as the JSON lines of dx diff
// --rows --format jsonl FROM TO -- PATH. Only the chunks that differ
// between the versions are read.
func apiDiff(ctx context.Context, rv readView, rest string) (any, *apiError) {
	from, rest, _ := strings.Cut(rest, "/")
	to, p, _ := strings.Cut(rest, "/")
	a, e := apiVersion(ctx, rv, from)
	if e != nil {
		return nil, e
	}
	b, e := apiVersion(ctx, rv, to)
	if e != nil {
		return nil, e
	}
	o := repo.RowDiffOptions{From: a.commit, To: b.commit}
	if p = strings.Trim(p, "/"); p != "" {
		o.Paths = []string{p}
	}
	tds, err := rv.r.DiffRows(ctx, o)
	if err != nil {
		return nil, apiErr(repoError(err))
	}
	var buf bytes.Buffer
	for _, td := range tds {
		if td.Rows == nil || !b.showsFile(td.Change.Path) {
			continue
		}
		if err := td.Spec.WriteJSONL(&buf, td.Change.Path, td.Rows); err != nil {
			return nil, apiErr(repoError(err))
		}
	}
	return jsonLines(buf.Bytes()), nil
}
