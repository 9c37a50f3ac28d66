package serve

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// FuzzParseRange: any Range header gives a range inside the object, or
// InvalidRange, never a panic.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-0", "bytes=-5", "bytes=5-", "bytes=5-2", "bytes=0-1,3-4", "bytes=--1", "bytes=18446744073709551615-"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -size
		}
		from, to, partial, e := parseRange(h, size)
		if e != nil {
			return
		}
		if from < 0 || from > to || to > size || (!partial && (from != 0 || to != size)) {
			t.Fatalf("Range %q of %d: [%d, %d) partial %v", h, size, from, to, partial)
		}
	})
}

// FuzzSignature: no Authorization header or presigned query made up
// without the secret passes, and none panics.
func FuzzSignature(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", "", "20260101T000000Z")
	f.Add("", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=ab", "")
	f.Add("AWS AK:c2lnbmF0dXJl", "", "")
	f.Add("", "AWSAccessKeyId=AK&Signature=abc&Expires=1767225600", "")
	now := time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)
	creds := map[string]string{"AK": "secret"}
	f.Fuzz(func(t *testing.T, auth, query, date string) {
		r := &http.Request{Method: http.MethodGet, Host: "127.0.0.1", Header: http.Header{}, URL: &url.URL{Path: "/b/main/k", RawQuery: query}}
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		r.Header.Set("X-Amz-Date", date)
		r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		if !isSigned(r) {
			return
		}
		var e *s3Error
		if isSigV2(r) {
			e = verifySigV2(r, creds, now)
		} else {
			e = verifySigV4(r, creds, now)
		}
		if e == nil {
			t.Fatalf("accepted a made-up signature: %q %q", auth, query)
		}
	})
}
