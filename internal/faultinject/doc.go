// Package faultinject runs a command under ptrace and injects one fault
// into the N-th call, counted over all the command's threads, of a class of
// file system calls (writes, fsyncs, renames, unlinks): a SIGKILL of the
// whole process as the call is entered, before it runs, or an error that
// the call returns without running.
//
// strace's `-e inject=SYSCALL:when=N` counts calls per thread, and a Go
// program spreads its calls over threads as the scheduler pleases, so there
// N does not name one call of the command; here it does: the calls are
// numbered in the order the tracer sees them enter.
//
// Only calls on files count: a write or fsync whose descriptor names a
// path (not a pipe, socket or the runtime's eventfd), every rename and
// unlink. Linux on amd64 only; elsewhere Run returns ErrUnsupported.
//
// Run waits for any child of the calling process (the threads of a traced
// process must be waited for together), so it is meant for a process of its
// own: the e2e tests re-execute their test binary to run it.
package faultinject
