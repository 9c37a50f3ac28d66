package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
)

// Config says where a remote is and how to reach it; stored in the
// repository's config, never with credentials (those come from the
// environment or the AWS shared files when the remote is opened).
type Config struct {
	// URL is s3://bucket[/prefix] or file:///abs/path. A plain absolute or
	// relative directory path is accepted and turned into a file URL.
	URL string `json:"url"`
	// Endpoint is the S3 endpoint, host:port or http(s)://host:port.
	// Empty means $AWS_ENDPOINT_URL_S3, else $AWS_ENDPOINT_URL, else AWS
	// (s3.amazonaws.com).
	Endpoint string `json:"endpoint,omitempty"`
	// Region is the S3 region. Empty means $AWS_REGION, else
	// $AWS_DEFAULT_REGION, else the bucket's location as the server
	// reports it (us-east-1 where it reports none).
	Region string `json:"region,omitempty"`
	// PathStyle addresses buckets as endpoint/bucket rather than
	// bucket.endpoint (most local S3 servers need it).
	PathStyle bool `json:"path_style,omitempty"`
	// Insecure uses plain http (local servers); an http:// endpoint
	// implies it.
	Insecure bool `json:"insecure,omitempty"`
}

// location is a parsed remote URL.
type location struct {
	scheme string // "s3" or "file"
	bucket string // s3
	prefix string // s3: "" or "a/b", no slash at either end
	dir    string // file: absolute, cleaned
}

func (l location) String() string {
	switch l.scheme {
	case "s3":
		if l.prefix == "" {
			return "s3://" + l.bucket
		}
		return "s3://" + l.bucket + "/" + l.prefix
	default:
		return "file://" + l.dir
	}
}

// Normalize validates c and puts its URL and endpoint in canonical form:
// s3://bucket[/prefix] with the prefix cleaned of slashes at either end, or
// file:///abs/path for a directory (relative paths are made absolute
// against the working directory). Errors are one line naming the URL.
func (c Config) Normalize() (Config, error) {
	c, _, err := c.parse()
	return c, err
}

// parse is Normalize, also returning the parsed URL.
func (c Config) parse() (Config, location, error) {
	loc, err := parseURL(c.URL)
	if err != nil {
		return c, loc, err
	}
	c.URL = loc.String()
	c.Endpoint = strings.TrimSpace(c.Endpoint)
	c.Region = strings.TrimSpace(c.Region)
	if loc.scheme == "file" {
		if c.Endpoint != "" || c.Region != "" || c.PathStyle || c.Insecure {
			return c, loc, fmt.Errorf("remote %s: endpoint, region, path-style and insecure apply only to s3:// remotes", c.URL)
		}
		return c, loc, nil
	}
	if c.Endpoint != "" {
		ep, err := normalizeEndpoint(c.Endpoint)
		if err != nil {
			return c, loc, fmt.Errorf("remote %s: %w", c.URL, err)
		}
		c.Endpoint = ep
	}
	return c, loc, nil
}

// Open opens the remote c names. It does no I/O: a wrong endpoint, bucket
// or credentials show on first use, or early through Check.
func Open(ctx context.Context, c Config) (Backend, error) {
	c, loc, err := c.parse()
	if err != nil {
		return nil, err
	}
	switch loc.scheme {
	case "s3":
		return openS3(c, loc)
	default:
		return openFile(loc), nil
	}
}

// Check makes one cheap request to be so that an unreachable endpoint, a
// missing bucket or wrong credentials show up as one clear error before
// any work starts; the CLI calls it first thing on push, fetch and clone.
// It reads (lists refs/), so it does not prove write access. A missing
// directory remote passes: its root is created by the first write.
func Check(ctx context.Context, be Backend) error {
	if c, ok := be.(interface{ Check(context.Context) error }); ok {
		return c.Check(ctx)
	}
	_, err := be.List(ctx, refsPrefix)
	return err
}

// parseURL parses and validates a remote URL.
func parseURL(raw string) (location, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return location{}, errors.New("remote URL is empty (use s3://bucket/prefix or file:///path)")
	}
	bad := func(why string) (location, error) {
		return location{}, fmt.Errorf("remote URL %q: %s", raw, why)
	}
	scheme, rest, hasScheme := strings.Cut(s, "://")
	if !hasScheme {
		if l := strings.ToLower(s); strings.HasPrefix(l, "s3:") || strings.HasPrefix(l, "file:") {
			return bad("malformed URL (use s3://bucket/prefix or file:///path)")
		}
		abs, err := filepath.Abs(s)
		if err != nil {
			return bad(err.Error())
		}
		return location{scheme: "file", dir: abs}, nil
	}
	switch strings.ToLower(scheme) {
	case "s3":
		return parseS3(rest, bad)
	case "file":
		// The path is taken literally (no %-escapes), so any directory
		// name can be written as it is.
		switch {
		case strings.HasPrefix(rest, "/"):
		case strings.HasPrefix(rest, "localhost/"):
			rest = strings.TrimPrefix(rest, "localhost")
		default:
			return bad("a file URL needs an absolute path (file:///abs/path)")
		}
		return location{scheme: "file", dir: filepath.Clean(rest)}, nil
	default:
		return bad("unsupported scheme (use s3://bucket/prefix or file:///path)")
	}
}

func parseS3(rest string, bad func(string) (location, error)) (location, error) {
	if strings.ContainsAny(rest, "?#") {
		return bad("an s3 URL takes no query or fragment")
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return bad("no bucket (use s3://bucket/prefix)")
	}
	if err := checkBucketName(bucket); err != nil {
		return bad(err.Error())
	}
	var segs []string
	for _, seg := range strings.Split(prefix, "/") {
		switch seg {
		case "":
			// Slashes at either end, or doubled, are dropped.
		case ".", "..":
			return bad(fmt.Sprintf("prefix %q: %q is not allowed in a prefix", prefix, seg))
		default:
			if strings.ContainsAny(seg, "\\\x00") {
				return bad(fmt.Sprintf("prefix %q: backslashes and NUL are not allowed", prefix))
			}
			segs = append(segs, seg)
		}
	}
	return location{scheme: "s3", bucket: bucket, prefix: strings.Join(segs, "/")}, nil
}

// checkBucketName applies the S3 naming rules for general purpose buckets.
func checkBucketName(b string) error {
	bad := func(why string) error { return fmt.Errorf("invalid bucket name %q: %s", b, why) }
	if len(b) < 3 || len(b) > 63 {
		return bad("must be 3 to 63 characters long")
	}
	for _, r := range b {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return bad("use only lowercase letters, digits, dots and hyphens")
		}
	}
	isAlnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	if !isAlnum(b[0]) || !isAlnum(b[len(b)-1]) {
		return bad("must begin and end with a letter or digit")
	}
	if strings.Contains(b, "..") {
		return bad("must not contain two adjacent dots")
	}
	if net.ParseIP(b) != nil {
		return bad("must not look like an IP address")
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(b, p) {
			return bad(fmt.Sprintf("must not begin with %q", p))
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(b, s) {
			return bad(fmt.Sprintf("must not end with %q", s))
		}
	}
	return nil
}

// normalizeEndpoint checks an endpoint, host[:port] or
// http(s)://host[:port], and drops a trailing slash.
func normalizeEndpoint(ep string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("endpoint %q: %s (use host:port or http(s)://host:port)", ep, why)
	}
	scheme, rest, hasScheme := strings.Cut(ep, "://")
	if hasScheme {
		scheme = strings.ToLower(scheme)
		if scheme != "http" && scheme != "https" {
			return bad("unsupported scheme")
		}
	} else {
		rest = ep
	}
	rest = strings.TrimSuffix(rest, "/")
	u, err := url.Parse("//" + rest)
	if err != nil {
		return bad("malformed")
	}
	if u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return bad("not a host and port")
	}
	if u.Port() == "" && strings.HasSuffix(u.Host, ":") {
		return bad("empty port")
	}
	if hasScheme {
		return scheme + "://" + u.Host, nil
	}
	return u.Host, nil
}

// endpointAddr splits a normalized endpoint into host[:port], whether it
// names plain http, and whether it names a scheme at all.
func endpointAddr(ep string) (host string, insecure, explicit bool) {
	switch {
	case strings.HasPrefix(ep, "http://"):
		return strings.TrimPrefix(ep, "http://"), true, true
	case strings.HasPrefix(ep, "https://"):
		return strings.TrimPrefix(ep, "https://"), false, true
	default:
		return ep, false, false
	}
}
