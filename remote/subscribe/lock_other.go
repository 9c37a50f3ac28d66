//go:build !unix

package subscribe

// lockRemote does nothing where there is no flock: one subscriber per
// remote and repository is then the user's to ensure.
func lockRemote(dir, remoteName string) (release func(), err error) {
	return func() {}, nil
}

// signalSubscriber finds no running subscriber where there is no flock.
func signalSubscriber(dir, remoteName string) (int, error) { return 0, nil }
