//go:build darwin || freebsd || netbsd

package repo

import "syscall"

// ctimeNs is the change time in a stat result, in ns.
func ctimeNs(st *syscall.Stat_t) int64 {
	return int64(st.Ctimespec.Sec)*1e9 + int64(st.Ctimespec.Nsec)
}
