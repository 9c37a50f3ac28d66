package subscribe

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
)

// A run is one execution of the command on one delta. It is kept in three
// files so that a subscriber killed while its command runs neither kills
// the command nor runs it again on restart: the restarted subscriber
// adopts the run, waits for it and takes its exit status.
//
//   - NAME.json, the record: the branch, the delta's ends, the command and
//     its environment, written (atomically) before the command starts.
//   - NAME.lock, held (flock) by the runner for as long as the command
//     runs, holds the run's state: empty until the runner starts the
//     command, "started" then; "abandoned" when a restarted subscriber
//     found it never started and took the delta back, so that a runner
//     that comes late runs nothing.
//   - NAME.status, the command's exit code, written (atomically) by the
//     runner when the command ends.
//
// The runner is a process of its own (dx subscribe-exec NAME.json, in a
// process group of its own, so that neither a SIGKILL of the subscriber
// nor a Ctrl-C in its terminal reaches the command); the command's shell
// dies with the runner.

// runRecord is what a run's record holds.
type runRecord struct {
	Branch  string   `json:"branch"`
	Old     dag.ID   `json:"old"`
	New     dag.ID   `json:"new"`
	Delta   string   `json:"delta"`
	Command string   `json:"command"`
	WorkDir string   `json:"work_dir"`
	Env     []string `json:"env"` // DX_REMOTE, DX_BRANCH, DX_OLD, DX_NEW, DX_DELTA
}

// Run states, in NAME.lock.
const (
	runStarted   = "started"
	runAbandoned = "abandoned"
)

// runFiles names the files of the run of branch of remoteName.
type runFiles struct{ record, lock, status string }

func runsDir(stateDir, remoteName string) string {
	return filepath.Join(stateDir, remoteName+".runs")
}

func filesOf(record string) runFiles {
	base := strings.TrimSuffix(record, ".json")
	return runFiles{record: record, lock: base + ".lock", status: base + ".status"}
}

func runFilesFor(stateDir, remoteName, branch string) runFiles {
	return filesOf(filepath.Join(runsDir(stateDir, remoteName), hex.EncodeToString([]byte(branch))+".json"))
}

// remove deletes the run's files: it is over.
func (f runFiles) remove() error {
	var errs []error
	for _, p := range []string{f.status, f.record, f.lock} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// readStatus returns the exit code the runner wrote, and false when it
// wrote none.
func (f runFiles) readStatus() (int, bool, error) {
	b, err := os.ReadFile(f.status)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	code, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, false, fmt.Errorf("%s: not an exit status: %q", f.status, b)
	}
	return code, true, nil
}

// runCommand runs the command on what dir holds (a delta, or a model's
// artifact) through a runner, with DX_REMOTE, DX_OLD (empty for a first
// run), DX_NEW and env in its environment, and waits for it. It leaves the run's
// files for the caller to remove once the cursor has moved.
func (s *subscriber) runCommand(ctx context.Context, branch string, old, head dag.ID, dir string, env []string) error {
	oldText := ""
	if !old.IsZero() {
		oldText = old.String()
	}
	rec := runRecord{Branch: branch, Old: old, New: head, Delta: dir, Command: s.o.Command, WorkDir: s.o.WorkDir,
		Env: append([]string{"DX_REMOTE=" + s.remote, "DX_OLD=" + oldText, "DX_NEW=" + head.String()}, env...)}
	files := runFilesFor(s.o.StateDir, s.remote, branch)
	if err := files.remove(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(files.record), 0o755); err != nil {
		return err
	}
	if err := repo.SaveStateFile(files.record, rec); err != nil {
		return err
	}
	var err error
	if len(s.o.Runner) == 0 {
		_, err = ExecRun(ctx, files.record, s.o.Stdout, s.o.Stderr)
	} else {
		cmd := exec.Command(s.o.Runner[0], append(s.o.Runner[1:], files.record)...)
		cmd.Stdout, cmd.Stderr = s.o.Stdout, s.o.Stderr
		ownProcessGroup(cmd)
		err = cmd.Run()
	}
	code, ok, serr := files.readStatus()
	switch {
	case serr != nil:
		err = serr
	case !ok && err == nil:
		err = errors.New("the runner wrote no exit status")
	case ok && code == 0:
		return nil
	case ok:
		err = fmt.Errorf("exit status %d", code)
	}
	return fmt.Errorf("%s..%s: %w: %v", shortOrNothing(old), head.Short(), ErrCommandFailed, err)
}

// ExecRun is the runner (dx subscribe-exec RECORD): it takes the run's
// lock, runs the command unless the run was abandoned, and writes its exit
// status. It returns the command's exit code.
func ExecRun(ctx context.Context, record string, stdout, stderr io.Writer) (int, error) {
	var rec runRecord
	if found, err := repo.LoadStateFile(record, &rec); err != nil || !found {
		return 0, fmt.Errorf("run record %s: %v", record, errOrMissing(err))
	}
	files := filesOf(record)
	lock, err := lockRun(ctx, files.lock)
	if err != nil {
		return 0, err
	}
	defer lock.release()
	if state, err := lock.state(); err != nil || state != "" {
		return 0, errOrAbandoned(err, state)
	}
	if err := lock.setState(runStarted); err != nil {
		return 0, err
	}
	cmd := exec.Command("/bin/sh", "-c", rec.Command)
	cmd.Dir = rec.WorkDir
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Env = append(os.Environ(), rec.Env...)
	release := stopWithParent(cmd)
	runErr := cmd.Run()
	release()
	code := 0
	var exitErr *exec.ExitError
	switch {
	case errors.As(runErr, &exitErr):
		code = exitErr.ExitCode()
		if code < 0 { // killed by a signal
			code = 128 + 9
		}
	case runErr != nil:
		code = 127 // could not start
		fmt.Fprintf(stderr, "dx: %v\n", runErr)
	}
	if err := store.WriteFileAtomic(files.status, []byte(strconv.Itoa(code)+"\n")); err != nil {
		return code, err
	}
	return code, nil
}

func errOrMissing(err error) error {
	if err != nil {
		return err
	}
	return fs.ErrNotExist
}

func errOrAbandoned(err error, state string) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("run %s: nothing run", state)
}

// adoptRuns settles the runs a killed subscriber left: it waits for each
// command still running, and takes its exit status as if it had run it
// (moving the cursor on success). A run that never started is abandoned,
// and one whose runner died mid-way is run again by the next step.
func (s *subscriber) adoptRuns(ctx context.Context) error {
	records, _ := filepath.Glob(filepath.Join(runsDir(s.o.StateDir, s.remote), "*.json"))
	for _, record := range records {
		if err := s.adopt(ctx, filesOf(record)); err != nil {
			return err
		}
	}
	return nil
}

func (s *subscriber) adopt(ctx context.Context, files runFiles) error {
	var rec runRecord
	if found, err := repo.LoadStateFile(files.record, &rec); err != nil || !found {
		return files.remove()
	}
	lock, err := tryLockRun(files.lock)
	if err != nil {
		return err
	}
	if lock == nil {
		s.report(Event{Kind: Waiting, Remote: s.remote, Branch: rec.Branch, Old: rec.Old, New: rec.New})
		if lock, err = lockRun(ctx, files.lock); err != nil {
			return err
		}
	}
	defer lock.release()
	state, err := lock.state()
	if err != nil {
		return err
	}
	code, ok, err := files.readStatus()
	if err != nil {
		return err
	}
	c := s.cursors.Branches[rec.Branch]
	switch {
	case state == "":
		// Never started: a runner that comes late must not run it.
		if err := lock.setState(runAbandoned); err != nil {
			return err
		}
	case ok && code == 0 && c.Commit == rec.Old:
		s.cursors.Branches[rec.Branch] = Cursor{Commit: rec.New, Handled: time.Now().UTC()}
		if err := s.cursors.save(); err != nil {
			return err
		}
		s.report(Event{Kind: Handled, Remote: s.remote, Branch: rec.Branch, Old: rec.Old, New: rec.New})
	case ok && code != 0 && c.Commit == rec.Old:
		_ = s.failed(rec.Branch, rec.Old, rec.New, fmt.Errorf("%s..%s: %w: exit status %d", shortOrNothing(rec.Old), rec.New.Short(), ErrCommandFailed, code))
	case !ok:
		s.report(Event{Kind: Failed, Remote: s.remote, Branch: rec.Branch, Old: rec.Old, New: rec.New,
			Err: errors.New("the command of a killed subscriber ended without an exit status; it runs again")})
	}
	_ = os.RemoveAll(rec.Delta)
	return files.remove()
}
