//go:build !(linux && amd64)

package faultinject

// Run reports ErrUnsupported: the tracer is for linux/amd64.
func Run(plan Plan, argv []string, dir string, env []string) (Report, error) {
	return Report{}, ErrUnsupported
}
