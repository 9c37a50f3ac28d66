package faultinject

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// The tracer runs in a process of its own (Run waits for any child): a
// program calls RunIfTracer first thing in main (or TestMain), and Command
// starts it again as the tracer.
const (
	planEnv   = "FAULTINJECT_PLAN"   // the Plan as JSON
	reportEnv = "FAULTINJECT_REPORT" // where the tracer writes the Report as JSON
)

// Command returns a command that runs argv under plan in a new process of
// the program self (which calls RunIfTracer), writing the report to
// report. The caller sets Dir, Env (inherited by argv), Stdout and Stderr.
func Command(self string, plan Plan, report string, argv ...string) (*exec.Cmd, error) {
	b, err := json.Marshal(plan)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, argv...)
	cmd.Env = append(os.Environ(), planEnv+"="+string(b), reportEnv+"="+report)
	return cmd, nil
}

// RunIfTracer, in a process that Command started, runs os.Args[1:] under
// its plan, writes the report and exits; elsewhere it returns.
func RunIfTracer() {
	spec, ok := os.LookupEnv(planEnv)
	if !ok {
		return
	}
	report := os.Getenv(reportEnv)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, planEnv+"=") && !strings.HasPrefix(kv, reportEnv+"=") {
			env = append(env, kv)
		}
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "faultinject:", err)
		os.Exit(125)
	}
	var plan Plan
	if err := json.Unmarshal([]byte(spec), &plan); err != nil {
		fail(err)
	}
	if len(os.Args) < 2 {
		fail(fmt.Errorf("no command"))
	}
	dir, err := os.Getwd()
	if err != nil {
		fail(err)
	}
	rep, err := Run(plan, os.Args[1:], dir, env)
	if err != nil {
		fail(err)
	}
	b, _ := json.Marshal(rep)
	if err := os.WriteFile(report, b, 0o644); err != nil {
		fail(err)
	}
	os.Exit(0)
}

// ReadReport reads the report the tracer wrote.
func ReadReport(path string) (Report, error) {
	var rep Report
	b, err := os.ReadFile(path)
	if err != nil {
		return rep, err
	}
	return rep, json.Unmarshal(b, &rep)
}
