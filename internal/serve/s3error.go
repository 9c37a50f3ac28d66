package serve

import (
	"encoding/xml"
	"net/http"
)

// s3Error is an error as S3 reports it: an HTTP status, a code clients
// branch on, and a message for people.
type s3Error struct {
	Status  int
	Code    string
	Message string
}

func (e *s3Error) Error() string { return e.Code + ": " + e.Message }

// The errors the gateway returns, by S3's codes.
func errAccessDenied(msg string) *s3Error {
	return &s3Error{http.StatusForbidden, "AccessDenied", msg}
}
func errSignature() *s3Error {
	return &s3Error{http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."}
}
func errBadRequest(code, msg string) *s3Error {
	return &s3Error{http.StatusBadRequest, code, msg}
}
func errNotImplemented(msg string) *s3Error {
	return &s3Error{http.StatusNotImplemented, "NotImplemented", msg}
}

var (
	errInvalidKey   = &s3Error{http.StatusForbidden, "InvalidAccessKeyId", "The AWS access key ID you provided does not exist in our records."}
	errNoSuchBucket = &s3Error{http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist."}
	errNoSuchKey    = &s3Error{http.StatusNotFound, "NoSuchKey", "The specified key does not exist."}
	errInvalidRange = &s3Error{http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable."}
	errPrecondition = &s3Error{http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the preconditions you specified did not hold."}
	errSkewed       = &s3Error{http.StatusForbidden, "RequestTimeTooSkewed", "The difference between the request time and the server's time is too large."}
	errUnavailable  = &s3Error{http.StatusServiceUnavailable, "ServiceUnavailable", "The repository is busy; try again."}
	errInternal     = &s3Error{http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again."}
)

type errorBody struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource,omitempty"`
	RequestID string   `xml:"RequestId"`
}

// writeError writes e as S3's error XML (no body for HEAD).
func writeError(w http.ResponseWriter, r *http.Request, e *s3Error) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(e.Status)
	if r.Method == http.MethodHead {
		return
	}
	b, _ := xml.Marshal(errorBody{Code: e.Code, Message: e.Message, Resource: r.URL.Path, RequestID: w.Header().Get("x-amz-request-id")})
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(b)
}

// writeXML writes a successful response's XML.
func writeXML(w http.ResponseWriter, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(b)
}
