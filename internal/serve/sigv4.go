package serve

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Signature Version 4 verification, as AWS documents it for S3: the
// canonical request (method, URI, query, signed headers, payload hash),
// the string to sign over the credential scope, and the HMAC chain of the
// signing key.

const (
	sigAlgorithm = "AWS4-HMAC-SHA256"
	amzDateForm  = "20060102T150405Z"
	// maxSkew is how far a signed request's date may be from the
	// server's clock, as S3 allows.
	maxSkew = 15 * time.Minute
	// maxPresignExpiry is the longest validity of a presigned URL.
	maxPresignExpiry = 7 * 24 * time.Hour
)

// signedRequest is what a request's signature covers and claims.
type signedRequest struct {
	accessKey, date, region, service string
	amzDate                          time.Time
	signedHeaders                    []string
	signature                        string
	payloadHash                      string
	presigned                        bool
	expires                          time.Duration
}

// isSigned reports whether r carries a signature (of any version).
func isSigned(r *http.Request) bool {
	q := r.URL.Query()
	return r.Header.Get("Authorization") != "" || q.Has("X-Amz-Signature") || q.Has("X-Amz-Algorithm") || q.Has("Signature") || q.Has("AWSAccessKeyId")
}

// verifySigV4 checks r's signature against the secret of its access key
// in creds, at time now. It returns nil when the request is authentic.
func verifySigV4(r *http.Request, creds map[string]string, now time.Time) *s3Error {
	sr, e := parseSignature(r)
	if e != nil {
		return e
	}
	secret, ok := creds[sr.accessKey]
	if !ok {
		return errInvalidKey
	}
	if sr.service != "s3" || sr.date != sr.amzDate.Format("20060102") {
		return errBadRequest("AuthorizationHeaderMalformed", "The credential scope does not match the request date or service.")
	}
	if sr.presigned {
		if now.Before(sr.amzDate.Add(-maxSkew)) {
			return errAccessDenied("Request is not valid yet")
		}
		if now.After(sr.amzDate.Add(sr.expires)) {
			return errAccessDenied("Request has expired")
		}
	} else if d := now.Sub(sr.amzDate); d > maxSkew || d < -maxSkew {
		return errSkewed
	}
	canon := canonicalRequest(r, sr)
	sum := sha256.Sum256([]byte(canon))
	scope := sr.date + "/" + sr.region + "/" + sr.service + "/aws4_request"
	toSign := sigAlgorithm + "\n" + sr.amzDate.Format(amzDateForm) + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := hmacSHA256([]byte("AWS4"+secret), sr.date)
	for _, part := range []string{sr.region, sr.service, "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(sr.signature))) {
		return errSignature()
	}
	return nil
}

// parseSignature reads the signature's parts from the Authorization
// header or, for a presigned URL, from the query.
func parseSignature(r *http.Request) (signedRequest, *s3Error) {
	var sr signedRequest
	var credential, signed, date string
	malformed := func(msg string) (signedRequest, *s3Error) {
		return signedRequest{}, errBadRequest("AuthorizationHeaderMalformed", msg)
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		rest, ok := strings.CutPrefix(auth, sigAlgorithm+" ")
		if !ok {
			return signedRequest{}, errAccessDenied("Unknown signature algorithm: sign with AWS Signature Version 4.")
		}
		for _, f := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
			switch k {
			case "Credential":
				credential = v
			case "SignedHeaders":
				signed = v
			case "Signature":
				sr.signature = v
			}
		}
		date = r.Header.Get("X-Amz-Date")
		sr.payloadHash = r.Header.Get("X-Amz-Content-Sha256")
		if sr.payloadHash == "" {
			return signedRequest{}, errBadRequest("InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
		}
	} else {
		q := r.URL.Query()
		if q.Get("X-Amz-Algorithm") != sigAlgorithm {
			return signedRequest{}, errAccessDenied("Unknown signature algorithm: sign with AWS Signature Version 4.")
		}
		credential, signed, date, sr.signature = q.Get("X-Amz-Credential"), q.Get("X-Amz-SignedHeaders"), q.Get("X-Amz-Date"), q.Get("X-Amz-Signature")
		secs, err := strconv.ParseInt(q.Get("X-Amz-Expires"), 10, 64)
		if err != nil || secs <= 0 || time.Duration(secs)*time.Second > maxPresignExpiry {
			return signedRequest{}, errBadRequest("AuthorizationQueryParametersError", "X-Amz-Expires must be a number of seconds from 1 to 604800.")
		}
		sr.presigned, sr.expires = true, time.Duration(secs)*time.Second
		sr.payloadHash = "UNSIGNED-PAYLOAD"
		if h := q.Get("X-Amz-Content-Sha256"); h != "" {
			sr.payloadHash = h
		}
	}
	parts := strings.Split(credential, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" || signed == "" || sr.signature == "" {
		return malformed("The authorization credential, signed headers or signature is malformed.")
	}
	sr.accessKey, sr.date, sr.region, sr.service = parts[0], parts[1], parts[2], parts[3]
	sr.signedHeaders = strings.Split(signed, ";")
	hasHost := false
	for _, h := range sr.signedHeaders {
		hasHost = hasHost || h == "host"
	}
	if !hasHost {
		return malformed("The host header must be signed.")
	}
	t, err := time.Parse(amzDateForm, date)
	if err != nil {
		return signedRequest{}, errAccessDenied("The request has no valid X-Amz-Date.")
	}
	sr.amzDate = t
	return sr, nil
}

// canonicalRequest builds SigV4's canonical request of r.
func canonicalRequest(r *http.Request, sr signedRequest) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	b.WriteString(uriEncode(r.URL.Path, true) + "\n")
	b.WriteString(canonicalQuery(r.URL.RawQuery, sr.presigned) + "\n")
	for _, h := range sr.signedHeaders {
		var v string
		if h == "host" {
			v = r.Host
		} else {
			vals := r.Header.Values(h)
			for i := range vals {
				vals[i] = strings.Join(strings.Fields(vals[i]), " ")
			}
			v = strings.Join(vals, ",")
		}
		b.WriteString(h + ":" + v + "\n")
	}
	b.WriteString("\n" + strings.Join(sr.signedHeaders, ";") + "\n")
	b.WriteString(sr.payloadHash)
	return b.String()
}

// canonicalQuery sorts the query's parameters by name, then value, each
// URI-encoded; a presigned URL's own signature is left out.
func canonicalQuery(raw string, presigned bool) string {
	q, _ := url.ParseQuery(raw)
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range q {
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		for _, v := range vs {
			pairs = append(pairs, pair{uriEncode(k, false), uriEncode(v, false)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.k + "=" + p.v
	}
	return strings.Join(out, "&")
}

// uriEncode percent-encodes every byte but the unreserved characters
// (and "/" when keepSlash), as SigV4 requires.
func uriEncode(s string, keepSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~', c == '/' && keepSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
