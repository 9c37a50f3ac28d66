package replicate

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/store/pack"
)

// fetchChecked streams a source pack through its checker into w.
func fetchChecked(ctx context.Context, src remote.Backend, pp *packPlan, c *pack.Checker, w io.Writer) error {
	rc, err := src.GetRange(ctx, remote.PackKey(pp.id), 0, pp.size)
	if err != nil {
		return err
	}
	defer rc.Close()
	k := &checked{r: rc, c: c, src: src, pp: pp}
	if _, err = io.Copy(w, k); k.err != nil {
		return k.err
	}
	return err
}

// checked passes a pack's bytes on through its checker: a damaged pack
// ends in an error before its last byte is handed on, and a short one in
// an error instead of the end.
type checked struct {
	r   io.Reader
	c   *pack.Checker
	src remote.Backend
	pp  *packPlan
	// err is the source's fault, if one was found: the error to report
	// whatever the writer wrapped it in.
	err error
}

func (k *checked) Read(b []byte) (int, error) {
	n, err := k.r.Read(b)
	if n > 0 {
		if _, cerr := k.c.Write(b[:n]); cerr != nil {
			k.err = fmt.Errorf("%s: %s: %v: %w", k.src, remote.PackKey(k.pp.id), cerr, remote.ErrIntegrity)
			return 0, k.err
		}
	}
	if errors.Is(err, io.EOF) && !k.c.Complete() {
		k.err = fmt.Errorf("%s: %s ended early: %w", k.src, remote.PackKey(k.pp.id), remote.ErrIntegrity)
		return n, k.err
	}
	return n, err
}
