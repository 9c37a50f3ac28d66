package serve

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Signature Version 2, which boto3 still uses by default for presigned
// URLs (AWSAccessKeyId, Signature, Expires in the query), and for an
// Authorization header of "AWS KEY:SIGNATURE": an HMAC-SHA1 over the
// method, Content-MD5, Content-Type, the date (or expiry), the x-amz-
// headers and the resource with its sub-resources.

// v2SubResources are the query parameters that are part of a V2
// canonical resource.
var v2SubResources = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`accelerate acl cors defaultObjectAcl location logging partNumber policy
		requestPayment torrent versioning versionId versions website uploads uploadId response-content-type
		response-content-language response-expires response-cache-control response-content-disposition
		response-content-encoding delete lifecycle tagging restore storageClass notification replication
		analytics metrics inventory select select-type object-lock`) {
		v2SubResources[k] = true
	}
}

// isSigV2 reports whether r is signed with Signature Version 2.
func isSigV2(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Authorization"), "AWS ") || r.URL.Query().Has("AWSAccessKeyId")
}

// verifySigV2 checks a V2 signature (header or presigned query) at now.
func verifySigV2(r *http.Request, creds map[string]string, now time.Time) *s3Error {
	q := r.URL.Query()
	var key, sig, date string
	if auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "AWS "); ok {
		var found bool
		if key, sig, found = strings.Cut(auth, ":"); !found {
			return errBadRequest("InvalidArgument", "The Authorization header is malformed.")
		}
		if r.Header.Get("X-Amz-Date") == "" {
			date = r.Header.Get("Date")
		}
		t, err := http.ParseTime(r.Header.Get("X-Amz-Date"))
		if err != nil {
			if t, err = http.ParseTime(r.Header.Get("Date")); err != nil {
				return errAccessDenied("The request has no valid date.")
			}
		}
		if d := now.Sub(t); d > maxSkew || d < -maxSkew {
			return errSkewed
		}
	} else {
		key, sig, date = q.Get("AWSAccessKeyId"), q.Get("Signature"), q.Get("Expires")
		exp, err := strconv.ParseInt(date, 10, 64)
		if err != nil {
			return errAccessDenied("The presigned URL has no valid Expires.")
		}
		if now.Unix() > exp {
			return errAccessDenied("Request has expired")
		}
	}
	secret, ok := creds[key]
	if !ok {
		return errInvalidKey
	}
	var b strings.Builder
	b.WriteString(r.Method + "\n" + r.Header.Get("Content-MD5") + "\n" + r.Header.Get("Content-Type") + "\n" + date + "\n")
	var amz []string
	for name := range r.Header {
		if l := strings.ToLower(name); strings.HasPrefix(l, "x-amz-") {
			amz = append(amz, l+":"+strings.Join(r.Header.Values(name), ","))
		}
	}
	sort.Strings(amz)
	for _, h := range amz {
		b.WriteString(h + "\n")
	}
	// A bucket's resource is "/bucket/", however the path was sent.
	res := r.URL.EscapedPath()
	if strings.Count(res, "/") == 1 && res != "/" {
		res += "/"
	}
	b.WriteString(res)
	var subs []string
	for k, vs := range q {
		if !v2SubResources[k] {
			continue
		}
		for _, v := range vs {
			if v == "" {
				subs = append(subs, k)
			} else {
				subs = append(subs, k+"="+v)
			}
		}
	}
	sort.Strings(subs)
	if len(subs) > 0 {
		b.WriteString("?" + strings.Join(subs, "&"))
	}
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(b.String()))
	want := base64.StdEncoding.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return errSignature()
	}
	return nil
}

// sigV2Query are the query parameters of a V2 presigned URL.
var sigV2Query = map[string]bool{"AWSAccessKeyId": true, "Signature": true, "Expires": true}
