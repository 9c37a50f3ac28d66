package remote

import (
	"cmp"
	"context"
	"sync"
)

// ReadHeads reads what a fetch starts from: the remote's refs, then its
// index (through the cache directory, as LoadIndex). A push writes the
// index of its packs before it moves a ref, so an index listed after the
// refs are read holds everything they name; listed before, a push between
// the two would leave the fetch without objects the refs name, as if the
// remote were damaged. The remote is checked, its refs listed and its
// format read at once; the check's error, the clearest, comes first, and
// the format matters only to a remote with refs.
func ReadHeads(ctx context.Context, be Backend, cache string) ([]Ref, *Index, error) {
	var refs []Ref
	var checkErr, refsErr, formatErr error
	var wg sync.WaitGroup
	wg.Go(func() { checkErr = Check(ctx, be) })
	wg.Go(func() { refs, refsErr = ListRefs(ctx, be) })
	wg.Go(func() { formatErr = CheckFormat(ctx, be) })
	wg.Wait()
	if err := cmp.Or(checkErr, refsErr); err != nil {
		return nil, nil, err
	}
	if len(refs) > 0 && formatErr != nil {
		return nil, nil, formatErr
	}
	ix, err := LoadIndex(ctx, be, cache)
	if err != nil {
		return nil, nil, err
	}
	return refs, ix, nil
}
