//go:build !unix

package store

func dropEmptyValueLogs(dir string) error { return nil }

func repairManifestLocked(dir string) (bool, error) { return repairManifest(dir) }
