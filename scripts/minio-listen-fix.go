//go:build ignore

// Copied into MinIO's cmd package by scripts/minio.sh (and built there, not
// here): trackingResponseWriter forwards Flush and Hijack, as the upstream
// fix of minio/minio#21651 does, so that streamed responses such as
// ListenBucketNotification reach the client.

package cmd

import (
	"bufio"
	"net"
	"net/http"
)

// Flush sends what is buffered to the client.
func (w *trackingResponseWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack hands the connection to the handler.
func (w *trackingResponseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}
