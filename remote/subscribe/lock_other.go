//go:build !unix

package subscribe

// lockRemote does nothing where there is no flock: one subscriber per
// remote and repository is then the user's to ensure.
func lockRemote(dir, remoteName string) (release func(), err error) {
	return func() {}, nil
}
