package faultinject

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// classOf names the class of each system call counted.
var classOf = map[uint64]Class{
	unix.SYS_WRITE: Write, unix.SYS_PWRITE64: Write, unix.SYS_WRITEV: Write,
	unix.SYS_PWRITEV: Write, unix.SYS_PWRITEV2: Write, unix.SYS_COPY_FILE_RANGE: Write,
	unix.SYS_FSYNC: Fsync, unix.SYS_FDATASYNC: Fsync,
	unix.SYS_RENAME: Rename, unix.SYS_RENAMEAT: Rename, unix.SYS_RENAMEAT2: Rename,
	unix.SYS_UNLINK: Unlink, unix.SYS_UNLINKAT: Unlink, unix.SYS_RMDIR: Unlink,
}

var callName = map[uint64]string{
	unix.SYS_WRITE: "write", unix.SYS_PWRITE64: "pwrite64", unix.SYS_WRITEV: "writev",
	unix.SYS_PWRITEV: "pwritev", unix.SYS_PWRITEV2: "pwritev2", unix.SYS_COPY_FILE_RANGE: "copy_file_range",
	unix.SYS_FSYNC: "fsync", unix.SYS_FDATASYNC: "fdatasync",
	unix.SYS_RENAME: "rename", unix.SYS_RENAMEAT: "renameat", unix.SYS_RENAMEAT2: "renameat2",
	unix.SYS_UNLINK: "unlink", unix.SYS_UNLINKAT: "unlinkat", unix.SYS_RMDIR: "rmdir",
}

// syscallInfo is struct ptrace_syscall_info (linux/ptrace.h) with the
// entry member of its union.
type syscallInfo struct {
	Op   uint8
	_    [3]uint8
	Arch uint32
	IP   uint64
	SP   uint64
	Nr   uint64 // entry: the call; exit: its return value
	Args [6]uint64
	_    [2]uint64
}

const (
	opEntry = 1
	opExit  = 2
)

func getSyscallInfo(tid int) (syscallInfo, error) {
	var info syscallInfo
	_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_GET_SYSCALL_INFO, uintptr(tid),
		unsafe.Sizeof(info), uintptr(unsafe.Pointer(&info)), 0, 0)
	if e != 0 {
		return info, e
	}
	return info, nil
}

// Run runs argv (argv[0] a path) in dir with env under the plan, its
// standard streams those of this process, and reports what happened.
func Run(plan Plan, argv []string, dir string, env []string) (Report, error) {
	if err := plan.Validate(); err != nil {
		return Report{}, err
	}
	// Every ptrace request must come from the thread that started the
	// tracee.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pid, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{
		Dir: dir, Env: env, Files: []uintptr{0, 1, 2},
		Sys: &syscall.SysProcAttr{Ptrace: true},
	})
	if err != nil {
		return Report{}, fmt.Errorf("faultinject: start %s: %w", argv[0], err)
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, syscall.WALL, nil); err != nil || !ws.Stopped() {
		return Report{}, fmt.Errorf("faultinject: %s did not stop at exec (%v, %v)", argv[0], ws, err)
	}
	const opts = syscall.PTRACE_O_TRACESYSGOOD | syscall.PTRACE_O_TRACECLONE | syscall.PTRACE_O_TRACEFORK |
		syscall.PTRACE_O_TRACEVFORK | syscall.PTRACE_O_TRACEEXEC | unix.PTRACE_O_EXITKILL
	if err := syscall.PtraceSetOptions(pid, opts); err != nil {
		syscall.Kill(pid, syscall.SIGKILL)
		return Report{}, fmt.Errorf("faultinject: set options: %w", err)
	}
	t := &tracer{plan: plan, pid: pid, rep: Report{Counts: map[Class]int{}}, seen: map[int]bool{pid: true}, failing: map[int]bool{}}
	return t.loop()
}

type tracer struct {
	plan    Plan
	pid     int
	rep     Report
	seen    map[int]bool // threads that have stopped once
	failing map[int]bool // threads whose current call returns plan.Errno
}

func (t *tracer) loop() (Report, error) {
	resume := func(tid, sig int) {
		// ESRCH: the thread died meanwhile (a SIGKILL); nothing to do.
		syscall.PtraceSyscall(tid, sig)
	}
	resume(t.pid, 0)
	for {
		var ws syscall.WaitStatus
		tid, err := syscall.Wait4(-1, &ws, syscall.WALL, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return t.rep, fmt.Errorf("faultinject: wait: %w", err)
		}
		switch {
		case ws.Exited() || ws.Signaled():
			if tid != t.pid {
				continue
			}
			if ws.Signaled() {
				t.rep.Exit, t.rep.Signal = -1, int(ws.Signal())
			} else {
				t.rep.Exit = ws.ExitStatus()
			}
			return t.rep, nil
		case !ws.Stopped():
			continue
		}
		sig := ws.StopSignal()
		first := !t.seen[tid]
		t.seen[tid] = true
		switch {
		case sig == syscall.SIGTRAP|0x80:
			t.syscallStop(tid)
			resume(tid, 0)
		case sig == syscall.SIGTRAP && ws.TrapCause() > 0: // clone, fork, exec events
			resume(tid, 0)
		case sig == syscall.SIGSTOP && first: // a new thread's first stop
			resume(tid, 0)
		default: // a signal for the tracee (Go preempts with SIGURG)
			resume(tid, int(sig))
		}
	}
}

func (t *tracer) syscallStop(tid int) {
	info, err := getSyscallInfo(tid)
	if err != nil {
		return
	}
	if info.Op == opExit {
		if t.failing[tid] {
			delete(t.failing, tid)
			var regs syscall.PtraceRegs
			if syscall.PtraceGetRegs(tid, &regs) == nil {
				regs.Rax = uint64(-int64(t.plan.Errno))
				syscall.PtraceSetRegs(tid, &regs)
			}
		}
		return
	}
	class, ok := classOf[info.Nr]
	if info.Op != opEntry || !ok || !t.onFile(tid, info) {
		return
	}
	t.rep.Counts[class]++
	if class != t.plan.Class {
		return
	}
	t.rep.Calls++
	if t.rep.Calls != t.plan.N {
		return
	}
	t.rep.Fired, t.rep.Call = true, t.describe(tid, info)
	if t.plan.Errno == 0 {
		syscall.Kill(t.pid, syscall.SIGKILL)
		return
	}
	// Turn the call into an invalid one, which the kernel skips; its exit
	// stop then sets the result.
	var regs syscall.PtraceRegs
	if syscall.PtraceGetRegs(tid, &regs) == nil {
		regs.Orig_rax = ^uint64(0)
		if syscall.PtraceSetRegs(tid, &regs) == nil {
			t.failing[tid] = true
		}
	}
}

// onFile: the call's descriptor (if it has one) names a path.
func (t *tracer) onFile(tid int, info syscallInfo) bool {
	fd := -1
	switch info.Nr {
	case unix.SYS_WRITE, unix.SYS_PWRITE64, unix.SYS_WRITEV, unix.SYS_PWRITEV, unix.SYS_PWRITEV2,
		unix.SYS_FSYNC, unix.SYS_FDATASYNC:
		fd = int(info.Args[0])
	case unix.SYS_COPY_FILE_RANGE:
		fd = int(info.Args[2])
	default:
		return true
	}
	return strings.HasPrefix(fdPath(tid, fd), "/")
}

func fdPath(tid, fd int) string {
	p, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", tid, fd))
	if err != nil {
		return fmt.Sprintf("fd%d", fd)
	}
	return p
}

// describe spells a call for a report: its name and the paths it names.
func (t *tracer) describe(tid int, info syscallInfo) string {
	a := info.Args
	str := func(addr uint64) string { return peekString(tid, uintptr(addr)) }
	at := func(dirfd, addr uint64) string {
		s := str(addr)
		if strings.HasPrefix(s, "/") || int32(dirfd) == unix.AT_FDCWD {
			return s
		}
		return fdPath(tid, int(int32(dirfd))) + "/" + s
	}
	var args []string
	switch info.Nr {
	case unix.SYS_COPY_FILE_RANGE:
		args = []string{fdPath(tid, int(a[0])), fdPath(tid, int(a[2]))}
	case unix.SYS_RENAME:
		args = []string{str(a[0]), str(a[1])}
	case unix.SYS_RENAMEAT, unix.SYS_RENAMEAT2:
		args = []string{at(a[0], a[1]), at(a[2], a[3])}
	case unix.SYS_UNLINK, unix.SYS_RMDIR:
		args = []string{str(a[0])}
	case unix.SYS_UNLINKAT:
		args = []string{at(a[0], a[1])}
	default:
		args = []string{fdPath(tid, int(a[0]))}
	}
	return callName[info.Nr] + "(" + strings.Join(args, ", ") + ")"
}

// peekString reads a NUL-terminated string of at most 4 KiB from the
// tracee.
func peekString(tid int, addr uintptr) string {
	var out []byte
	buf := make([]byte, 8)
	for len(out) < 4096 {
		if _, err := syscall.PtracePeekData(tid, addr+uintptr(len(out)), buf); err != nil {
			break
		}
		if i := strings.IndexByte(string(buf), 0); i >= 0 {
			return string(append(out, buf[:i]...))
		}
		out = append(out, buf...)
	}
	return string(out)
}
