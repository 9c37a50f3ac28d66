package remote

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/signer"
)

// notifyPing is how often the server is asked for an empty event on an
// idle listener: a listener that hears nothing for notifyDeadAfter is
// taken as dead and reopened, and one that hears nothing within
// notifyDeadAfter of opening was never offered.
const (
	notifyPing      = time.Second
	notifyDeadAfter = 4 * notifyPing
)

// notifyLineLimit bounds one line of the event stream: a hostile server
// never makes the listener hold more.
const notifyLineLimit = 1 << 20

// Listen wakes the caller on each object created under prefix, through
// MinIO's bucket notifications (a long GET that streams one JSON line per
// event, and an empty one every notifyPing). It returns an error where the
// server does not offer them: AWS S3 and most S3-compatible stores refuse
// the request, and a server that takes it but streams nothing (a MinIO
// with minio/minio#21651) is found out within notifyDeadAfter.
//
// The listener reopens a dropped or silent connection with back-off until
// ctx ends, and wakes the caller once it is back, since what was created
// meanwhile went unheard. The channel holds at most one pending wake:
// several events before a read are one wake.
func (b *s3Backend) Listen(ctx context.Context, prefix string) (<-chan struct{}, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	l := &listener{b: b, prefix: b.object(prefix), wakes: make(chan struct{}, 1)}
	first, err := l.open(ctx)
	if err != nil {
		return nil, fmt.Errorf("remote %s: bucket notifications: %w", b, err)
	}
	// Whatever was created before the listener opened is the caller's to
	// read: the first wake says so.
	l.wake()
	go l.run(ctx, first)
	return l.wakes, nil
}

// listener is one Listen: the stream it reads and the wakes it gives.
type listener struct {
	b      *s3Backend
	prefix string // the full object prefix in the bucket
	wakes  chan struct{}
}

func (l *listener) wake() {
	select {
	case l.wakes <- struct{}{}:
	default:
	}
}

// stream is an open listen request: its lines, and how to end it.
type stream struct {
	lines  <-chan []byte // closed when the connection ends
	cancel context.CancelFunc
}

// open sends the listen request and waits for its first line, the proof
// that the server streams; the wait, headers included, is bounded by
// notifyDeadAfter.
func (l *listener) open(ctx context.Context) (*stream, error) {
	sctx, cancel := context.WithCancel(ctx)
	var silent atomic.Bool
	deadline := time.AfterFunc(notifyDeadAfter, func() { silent.Store(true); cancel() })
	defer deadline.Stop()
	fail := func(err error) (*stream, error) {
		cancel()
		if silent.Load() && ctx.Err() == nil {
			return nil, fmt.Errorf("the server accepted the request but streamed nothing within %s", notifyDeadAfter)
		}
		return nil, err
	}
	resp, err := l.request(sctx)
	if err != nil {
		return fail(err)
	}
	lines := make(chan []byte)
	go readLines(sctx, resp.Body, lines)
	s := &stream{lines: lines, cancel: func() { cancel(); resp.Body.Close() }}
	select {
	case line, ok := <-lines:
		if !ok {
			s.cancel()
			return fail(errors.New("the server closed the stream"))
		}
		if err := l.handle(line); err != nil {
			s.cancel()
			return fail(err)
		}
		if !deadline.Stop() && silent.Load() {
			s.cancel()
			return fail(ctx.Err())
		}
		return s, nil
	case <-sctx.Done():
		s.cancel()
		return fail(ctx.Err())
	}
}

// request sends the signed listen GET and returns the response once its
// headers are in (MinIO sends them with the first line).
func (l *listener) request(ctx context.Context) (*http.Response, error) {
	c := l.b.client
	region, err := c.GetBucketLocation(ctx, l.b.bucket)
	if err != nil {
		return nil, err
	}
	u := *c.EndpointURL()
	u.Path = "/" + l.b.bucket + "/"
	q := url.Values{}
	q.Set("events", "s3:ObjectCreated:*")
	q.Set("prefix", l.prefix)
	q.Set("ping", strconv.Itoa(int(notifyPing/time.Second)))
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	creds, err := l.b.creds.GetWithContext(c.CredContext())
	if err != nil {
		return nil, err
	}
	if !creds.SignerType.IsAnonymous() {
		req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
		req = signer.SignV4(*req, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, region)
	}
	resp, err := (&http.Client{Transport: l.b.transport}).Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, l.b.fail(ctx, "listen", "", httpError(resp))
	}
	return resp, nil
}

// emptySHA256 is the SHA-256 of no bytes, the payload hash of a GET.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// httpError reads an S3 error response into an error naming its code.
func httpError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e minio.ErrorResponse
	if xmlErr := xml.Unmarshal(body, &e); xmlErr != nil || e.Code == "" {
		return fmt.Errorf("%s", resp.Status)
	}
	e.StatusCode = resp.StatusCode
	return e
}

// readLines sends each line of r (an event, or the server's ping) and
// closes lines at the end of the stream or of a line too long.
func readLines(ctx context.Context, r io.Reader, lines chan<- []byte) {
	defer close(lines)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), notifyLineLimit)
	for sc.Scan() {
		select {
		case lines <- append([]byte(nil), sc.Bytes()...):
		case <-ctx.Done():
			return
		}
	}
}

// handle reads one line of the stream: records wake the caller; an empty
// event (the ping) or blanks only prove the stream alive.
func (l *listener) handle(line []byte) error {
	var ev struct {
		Records []json.RawMessage
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return nil
	}
	if err := json.Unmarshal(line, &ev); err != nil {
		return fmt.Errorf("not an event stream: %w", err)
	}
	if len(ev.Records) > 0 {
		l.wake()
	}
	return nil
}

// run reads s until ctx ends, reopening a dropped or silent stream with
// back-off (from a second, doubling to 30 s) and waking the caller each
// time it is back.
func (l *listener) run(ctx context.Context, s *stream) {
	delay := time.Second
	for {
		if l.read(ctx, s) {
			delay = time.Second
		}
		s.cancel()
		for {
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			delay = min(2*delay, 30*time.Second)
			var err error
			if s, err = l.open(ctx); err == nil {
				l.wake()
				break
			}
		}
	}
}

// read takes s's lines until it ends, turns bad or falls silent, and says
// whether it heard anything.
func (l *listener) read(ctx context.Context, s *stream) (heard bool) {
	t := time.NewTimer(notifyDeadAfter)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return heard
		case <-t.C:
			return heard // silent: the connection is taken as dead
		case line, ok := <-s.lines:
			if !ok || l.handle(line) != nil {
				return heard
			}
			heard = true
			t.Reset(notifyDeadAfter)
		}
	}
}
