package remote

import (
	"path/filepath"
	"strings"
)

// Identity names the storage c reaches, so that two configurations of the
// same remote (a name and a URL, a relative and an absolute path, a
// symlinked directory) compare equal: the endpoint host, bucket and prefix
// of an S3 remote, the real path of a directory.
func (c Config) Identity() (string, error) {
	c, loc, err := c.parse()
	if err != nil {
		return "", err
	}
	if loc.scheme == "file" {
		dir := loc.dir
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			dir = real
		}
		return "file://" + dir, nil
	}
	ep, err := s3Endpoint(c, loc)
	if err != nil {
		return "", err
	}
	host, _, _ := endpointAddr(ep)
	return "s3://" + strings.ToLower(host) + "/" + loc.bucket + "/" + loc.prefix, nil
}
