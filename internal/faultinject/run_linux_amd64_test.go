package faultinject

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

const childEnv = "FAULTINJECT_TEST_CHILD"

func TestMain(m *testing.M) {
	RunIfTracer()
	if dir := os.Getenv(childEnv); dir != "" {
		child(dir)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const threads, perThread = 4, 3

// child writes, syncs and renames threads*perThread files in a fixed
// order, each step on one of several locked OS threads in turn, and prints
// each error it meets.
func child(dir string) {
	turn := make([]chan bool, threads)
	for i := range turn {
		turn[i] = make(chan bool)
	}
	done := make(chan bool)
	for g := 0; g < threads; g++ {
		go func() {
			runtime.LockOSThread()
			for k := 0; k < perThread; k++ {
				<-turn[g]
				n := k*threads + g
				tmp, dst := filepath.Join(dir, fmt.Sprintf("tmp-%02d", n)), filepath.Join(dir, fmt.Sprintf("dst-%02d", n))
				if f, err := os.Create(tmp); err != nil {
					fmt.Printf("create %d: %v\n", n, err)
				} else {
					if _, err := f.Write([]byte("x")); err != nil {
						fmt.Printf("write %d: %v\n", n, err)
					}
					if err := f.Sync(); err != nil {
						fmt.Printf("sync %d: %v\n", n, err)
					}
					f.Close()
				}
				if err := os.Rename(tmp, dst); err != nil {
					fmt.Printf("rename %d: %v\n", n, err)
				}
				if n+1 < threads*perThread {
					turn[(g+1)%threads] <- true
				} else {
					close(done)
				}
			}
		}()
	}
	turn[0] <- true
	<-done
}

func runChild(t *testing.T, plan Plan) (Report, string, string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	report := filepath.Join(t.TempDir(), "report.json")
	cmd, err := Command(self, plan, report, self)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(cmd.Env, childEnv+"="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("tracer: %v\n%s", err, out.String())
	}
	rep, err := ReadReport(report)
	if err != nil {
		t.Fatal(err)
	}
	return rep, dir, out.String()
}

func renamed(t *testing.T, dir string) int {
	m, err := filepath.Glob(filepath.Join(dir, "dst-*"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

// TestCountsAcrossThreads: the calls of every thread are counted together,
// and the stdout pipe is not a file.
func TestCountsAcrossThreads(t *testing.T) {
	for _, c := range []Class{Write, Fsync, Rename} {
		rep, dir, out := runChild(t, Plan{Class: c})
		if rep.Calls != threads*perThread || rep.Counts[c] != rep.Calls || rep.Fired || rep.Exit != 0 || out != "" {
			t.Errorf("%s: %+v %q", c, rep, out)
		}
		if n := renamed(t, dir); n != threads*perThread {
			t.Errorf("%s: %d renamed", c, n)
		}
	}
}

// TestKillAtNthCall: a kill at the N-th rename leaves N-1 renamed.
func TestKillAtNthCall(t *testing.T) {
	for _, n := range []int{1, 6, 12} {
		rep, dir, _ := runChild(t, Plan{Class: Rename, N: n})
		if !rep.Fired || rep.Signal != int(syscall.SIGKILL) || !strings.Contains(rep.Call, fmt.Sprintf("tmp-%02d", n-1)) {
			t.Errorf("N=%d: %+v", n, rep)
		}
		if got := renamed(t, dir); got != n-1 {
			t.Errorf("N=%d: %d renamed", n, got)
		}
	}
}

// TestErrorAtNthCall: the N-th call alone fails, with the errno.
func TestErrorAtNthCall(t *testing.T) {
	for _, c := range []struct {
		class Class
		op    string
	}{{Write, "write"}, {Fsync, "sync"}, {Rename, "rename"}} {
		rep, dir, out := runChild(t, Plan{Class: c.class, N: 5, Errno: syscall.ENOSPC})
		want := fmt.Sprintf("%s 4: ", c.op)
		if !rep.Fired || rep.Exit != 0 || strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, want) || !strings.Contains(out, "no space left") {
			t.Errorf("%s: %+v %q", c.class, rep, out)
		}
		wantRenamed := threads * perThread
		if c.class == Rename {
			wantRenamed--
		}
		if got := renamed(t, dir); got != wantRenamed {
			t.Errorf("%s: %d renamed", c.class, got)
		}
	}
}
