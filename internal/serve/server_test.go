package serve

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/signer"

	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
)

// testRepo is a repository with two commits on main, the first tagged
// v1, of files whose names sort in the ways keys can ("a-b" before "a/",
// "a.txt" after it).
type testRepo struct {
	dir   string
	files map[string]map[string][]byte // ref → path → content
}

func newTestRepo(t *testing.T) *testRepo {
	t.Helper()
	ctx := context.Background()
	tr := &testRepo{dir: t.TempDir(), files: map[string]map[string][]byte{}}
	if _, err := repo.Init(ctx, tr.dir); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	names := []string{"a", "a-b", "a.txt", "b", "b0", "c+d e", "z"}
	// A directory sorts as its name and "/": after "a-b" and "a.txt".
	files := map[string][]byte{"a/x": []byte("x"), "a-b": []byte("y"), "a.txt": []byte("z"), "a0": nil,
		"c+d e/f~g (1).txt": []byte("a key that needs encoding")}
	for range 40 {
		depth := 1 + rng.IntN(3)
		var parts []string
		for range depth {
			parts = append(parts, names[rng.IntN(len(names))])
		}
		p := strings.Join(parts, "/")
		if clash(files, p) {
			continue
		}
		b := make([]byte, rng.IntN(3000))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		files[p] = b
	}
	big := make([]byte, 900<<10)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	files["big.bin"] = big
	commit := func(msg string) {
		for p, b := range files {
			full := filepath.Join(tr.dir, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		r, err := repo.Open(ctx, tr.dir, repo.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if _, err := r.Commit(ctx, repo.CommitOptions{Message: msg}); err != nil {
			t.Fatal(err)
		}
		if msg == "one" {
			if _, err := r.CreateTag(ctx, "v1", "HEAD"); err != nil {
				t.Fatal(err)
			}
		}
	}
	commit("one")
	tr.files["v1"] = copyFiles(files)
	files["a-b"] = []byte("changed")
	commit("two")
	tr.files["main"] = copyFiles(files)
	return tr
}

// clash reports whether p cannot be added to files: it is a file's
// directory, or one of its directories is a file.
func clash(files map[string][]byte, p string) bool {
	for q := range files {
		if q != p && (strings.HasPrefix(q, p+"/") || strings.HasPrefix(p, q+"/")) {
			return true
		}
	}
	return false
}

func copyFiles(m map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

const (
	testKey    = "AKTEST"
	testSecret = "secret/with+chars"
)

// serveTest runs a Server over tr behind an httptest server.
func serveTest(t *testing.T, tr *testRepo, o Options) (*Server, *httptest.Server) {
	t.Helper()
	o.Repos = []Repo{{Name: "data", Open: func(ctx context.Context) (*repo.Repo, error) {
		return repo.Open(ctx, tr.dir, repo.Options{Store: store.Options{Access: store.ReadOnly}})
	}}}
	if o.Credentials == nil {
		o.Credentials = map[string]string{testKey: testSecret}
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stopFills)
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return s, hs
}

// get sends an anonymous GET and returns the response's status, headers
// and body.
func get(t *testing.T, rawURL string, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// listOracle is what a listing must return: the keys after after under
// prefix, rolled up at delim into common prefixes, each common prefix
// once and only when it sorts after after.
func listOracle(keys []string, prefix, delim, after string) []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range keys {
		if k <= after || !strings.HasPrefix(k, prefix) {
			continue
		}
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				cp := k[:len(prefix)+i+len(delim)]
				if !seen[cp] && cp > after {
					out = append(out, cp)
				}
				seen[cp] = true
				continue
			}
		}
		out = append(out, k)
	}
	return out
}

// TestListObjectsV2Pages checks random listings, paged with continuation
// tokens, against listOracle.
func TestListObjectsV2Pages(t *testing.T) {
	tr := newTestRepo(t)
	_, hs := serveTest(t, tr, Options{Anonymous: true})
	var keys []string
	for ref, files := range tr.files {
		for p := range files {
			keys = append(keys, ref+"/"+p)
		}
	}
	sort.Strings(keys)
	rng := rand.New(rand.NewPCG(9, 9))
	pick := func() string {
		k := keys[rng.IntN(len(keys))]
		return k[:rng.IntN(len(k)+1)]
	}
	for i := range 150 {
		prefix, after := pick(), ""
		if rng.IntN(3) == 0 {
			after = pick()
		}
		delim := []string{"", "/", "/", "-", "b"}[rng.IntN(5)]
		maxKeys := 1 + rng.IntN(7)
		var got []string
		token := ""
		for pages := 0; ; pages++ {
			q := url.Values{"list-type": {"2"}, "prefix": {prefix}, "max-keys": {fmt.Sprint(maxKeys)}}
			if delim != "" {
				q.Set("delimiter", delim)
			}
			if after != "" {
				q.Set("start-after", after)
			}
			if token != "" {
				q.Set("continuation-token", token)
			}
			code, _, body := get(t, hs.URL+"/data?"+q.Encode(), nil)
			if code != 200 {
				t.Fatalf("case %d: %d %s", i, code, body)
			}
			var res struct {
				Contents       []struct{ Key string }
				CommonPrefixes []struct{ Prefix string }
				IsTruncated    bool
				KeyCount       int
				Next           string `xml:"NextContinuationToken"`
			}
			if err := xml.Unmarshal(body, &res); err != nil {
				t.Fatal(err)
			}
			// Keys and prefixes come sorted together.
			var page []string
			for _, c := range res.Contents {
				page = append(page, c.Key)
			}
			for _, c := range res.CommonPrefixes {
				page = append(page, c.Prefix)
			}
			sort.Strings(page)
			if len(page) > maxKeys || res.KeyCount != len(page) {
				t.Fatalf("case %d: a page of %d (KeyCount %d), max %d", i, len(page), res.KeyCount, maxKeys)
			}
			got = append(got, page...)
			if !res.IsTruncated {
				break
			}
			token = res.Next
			if pages > len(keys) {
				t.Fatalf("case %d: listing does not end", i)
			}
		}
		want := listOracle(keys, prefix, delim, after)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("case %d: prefix %q delimiter %q start-after %q max-keys %d:\ngot  %q\nwant %q", i, prefix, delim, after, maxKeys, got, want)
		}
	}
}

// TestRangedGet checks random ranges, and the Range forms S3 ignores or
// refuses, against the file's bytes.
func TestRangedGet(t *testing.T) {
	tr := newTestRepo(t)
	s, hs := serveTest(t, tr, Options{Anonymous: true})
	big := tr.files["main"]["big.bin"]
	n := len(big)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 40 {
		a := rng.IntN(n)
		z := a + rng.IntN(n-a)
		code, h, body := get(t, hs.URL+"/data/main/big.bin", map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", a, z)})
		if code != 206 || string(body) != string(big[a:z+1]) || h.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", a, z, n) {
			t.Fatalf("range %d-%d: %d, %d bytes, %s", a, z, code, len(body), h.Get("Content-Range"))
		}
	}
	for _, c := range []struct {
		rg       string
		code     int
		from, to int
	}{
		{"bytes=-10", 206, n - 10, n},
		{"bytes=-99999999", 206, 0, n},
		{fmt.Sprintf("bytes=%d-", n-1), 206, n - 1, n},
		{fmt.Sprintf("bytes=0-%d", n+100), 206, 0, n},
		{"bytes=5-2", 200, 0, n},
		{"bytes=abc", 200, 0, n},
		{"bytes=0-0,5-6", 200, 0, n},
		{"items=0-5", 200, 0, n},
		{"bytes=99999999999999999999999-", 200, 0, n},
		{fmt.Sprintf("bytes=%d-", n), 416, 0, 0},
		{"bytes=-0", 416, 0, 0},
	} {
		code, _, body := get(t, hs.URL+"/data/main/big.bin", map[string]string{"Range": c.rg})
		if code != c.code || (code < 300 && string(body) != string(big[c.from:c.to])) {
			t.Errorf("Range %q: %d with %d bytes, want %d with [%d:%d]", c.rg, code, len(body), c.code, c.from, c.to)
		}
	}
	// A second read of the same range decodes nothing: the cache has it.
	before := s.stats.ChunksDecoded.Load()
	get(t, hs.URL+"/data/main/big.bin", map[string]string{"Range": "bytes=100-200"})
	get(t, hs.URL+"/data/main/big.bin", map[string]string{"Range": "bytes=100-200"})
	if d := s.stats.ChunksDecoded.Load() - before; d > 1 {
		t.Errorf("two reads of one cached range decoded %d chunks", d)
	}
}

// TestWriterAfterRequests: once requests are answered, a writer opens
// the repository within its lock wait (the open lingers viewLinger only).
func TestWriterAfterRequests(t *testing.T) {
	tr := newTestRepo(t)
	_, hs := serveTest(t, tr, Options{Anonymous: true})
	if code, _, _ := get(t, hs.URL+"/data/main/big.bin", nil); code != 200 {
		t.Fatalf("GET: %d", code)
	}
	r, err := repo.Open(context.Background(), tr.dir, repo.Options{Store: store.Options{LockTimeout: 10 * viewLinger}})
	if err != nil {
		t.Fatalf("a writer after a request: %v", err)
	}
	r.Close()
}

func TestSignatures(t *testing.T) {
	tr := newTestRepo(t)
	now := time.Now()
	clock := now
	_, hs := serveTest(t, tr, Options{Now: func() time.Time { return clock }})
	u := hs.URL + "/data/main/c%2Bd%20e/f~g%20%281%29.txt?x-id=GetObject"
	req := func(rawURL string, hdr map[string]string) *http.Request {
		r, err := http.NewRequest(http.MethodGet, rawURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		return r
	}
	v4 := func(secret string, hdr map[string]string) *http.Request {
		r := req(u, hdr)
		r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		return signer.SignV4(*r, testKey, secret, "", "us-east-1")
	}
	presignV4 := func(secret string, expires int64) *http.Request {
		return signer.PreSignV4(*req(u, nil), testKey, secret, "", "us-east-1", expires)
	}
	for _, c := range []struct {
		name  string
		req   *http.Request
		clock time.Duration // the server's clock, from now
		code  int
		error string
	}{
		{"header", v4(testSecret, map[string]string{"Range": "bytes=0-0"}), 0, 206, ""},
		{"header, wrong secret", v4("wrong", nil), 0, 403, "SignatureDoesNotMatch"},
		{"header, clock 20 minutes on", v4(testSecret, nil), 20 * time.Minute, 403, "RequestTimeTooSkewed"},
		{"presigned", presignV4(testSecret, 60), 0, 200, ""},
		{"presigned, wrong secret", presignV4("wrong", 60), 0, 403, "SignatureDoesNotMatch"},
		{"presigned, expired", presignV4(testSecret, 60), 2 * time.Minute, 403, "AccessDenied"},
		{"presigned V2", signer.PreSignV2(*req(u, nil), testKey, testSecret, 60, false), 0, 200, ""},
		{"presigned V2, expired", signer.PreSignV2(*req(u, nil), testKey, testSecret, 60, false), 2 * time.Minute, 403, "AccessDenied"},
		{"header V2", signer.SignV2(*req(u, nil), testKey, testSecret, false), 0, 200, ""},
		{"header V2, wrong secret", signer.SignV2(*req(u, nil), testKey, "wrong", false), 0, 403, "SignatureDoesNotMatch"},
		{"unknown key", signer.SignV4(*req(u, map[string]string{"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"}), "NOPE", testSecret, "", "us-east-1"), 0, 403, "InvalidAccessKeyId"},
		{"unsigned", req(u, nil), 0, 403, "AccessDenied"},
		{"other algorithm", req(u, map[string]string{"Authorization": "AWS4-HMAC-SHA512 Credential=x"}), 0, 403, "AccessDenied"},
		{"malformed", req(u, map[string]string{"Authorization": "AWS4-HMAC-SHA256 garbage", "X-Amz-Content-Sha256": "x"}), 0, 400, "AuthorizationHeaderMalformed"},
	} {
		clock = now.Add(c.clock)
		code, _, body := do(t, c.req)
		if code != c.code || (c.error != "" && !strings.Contains(string(body), "<Code>"+c.error+"</Code>")) {
			t.Errorf("%s: %d %s, want %d %s", c.name, code, body, c.code, c.error)
		}
	}
}

// TestManyConcurrentReaders: a few hundred clients at once, some sending
// a body with their GET, all read the right bytes, and the repository is
// opened far fewer times than there are requests (they share opens).
func TestManyConcurrentReaders(t *testing.T) {
	tr := newTestRepo(t)
	s, hs := serveTest(t, tr, Options{Anonymous: true})
	big := tr.files["main"]["big.bin"]
	const clients = 300
	errs := make(chan error, clients)
	for i := range clients {
		go func() {
			a := (i * 7919) % len(big)
			var body io.Reader
			if i%3 == 0 {
				body = strings.NewReader("a body on a GET is ignored")
			}
			req, _ := http.NewRequest(http.MethodGet, hs.URL+"/data/main/big.bin", body)
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-", a))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err == nil && (resp.StatusCode != 206 || string(b) != string(big[a:])) {
				err = fmt.Errorf("client %d: %d with %d bytes", i, resp.StatusCode, len(b))
			}
			errs <- err
		}()
	}
	for range clients {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if opens, reqs := s.Snapshot()["repository_opens"], s.Snapshot()["requests"]; opens >= reqs {
		t.Errorf("%d requests opened the repository %d times", reqs, opens)
	}
}

// TestValidBucket: bucket names as S3's path-style rules (loosened)
// have them, checked against the regexp they were first written as.
func TestValidBucket(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$`)
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := "aZ09._-/ é\x00"
	for range 20000 {
		b := make([]byte, rng.IntN(260))
		if rng.IntN(4) == 0 {
			b = make([]byte, 250+rng.IntN(10))
		}
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
			if rng.IntN(3) > 0 {
				b[i] = "abcXYZ019"[rng.IntN(9)]
			}
		}
		if got, want := validBucket(string(b)), re.MatchString(string(b)); got != want {
			t.Fatalf("%q: valid %v, want %v", b, got, want)
		}
	}
}
