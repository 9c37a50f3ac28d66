package serve

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
)

// Environment variables holding one access key pair the server accepts.
// They are not AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, which hold
// the credentials a user's own clients send elsewhere.
const (
	EnvAccessKey = "DX_SERVE_ACCESS_KEY"
	EnvSecretKey = "DX_SERVE_SECRET_KEY"
)

// ErrCredentials: a credentials file or variable that cannot be used.
var ErrCredentials = errors.New("bad credentials")

// ReadCredentials reads a credentials file: one "ACCESS_KEY SECRET_KEY"
// pair a line; blank lines and lines starting with # are skipped.
func ReadCredentials(r io.Reader, name string) (map[string]string, error) {
	creds := map[string]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("%s:%d: want ACCESS_KEY SECRET_KEY: %w", name, n, ErrCredentials)
		}
		creds[f[0]] = f[1]
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return creds, nil
}

// CheckListen refuses to serve a non-loopback address without
// credentials: anonymous access is for this machine only.
func (o Options) CheckListen(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", addr, err)
	}
	if len(o.Credentials) > 0 {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--listen %s is not a loopback address: anonymous access is for 127.0.0.1 only; give credentials (%s and %s, or --credentials FILE): %w", addr, EnvAccessKey, EnvSecretKey, ErrCredentials)
}
