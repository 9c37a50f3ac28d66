package main

// The data contract benchmark (issue 19): in the table dataset's
// repository, the commit of v2 on v1 with a contract of 8 rules against
// the same commit without one, the bytes the check reads, and dx check of
// the whole table.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// benchContract is 8 rules on the generated table's columns, all of which
// its rows keep.
const benchContract = `tables:
  - path: %s
    columns:
      - name: id
        type: int
        required: true
      - name: name
        regex: '[A-Z][a-z]+ [A-Z][a-z]+'
      - name: email
        regex: '[a-z.0-9]+@[a-z.]+'
      - name: city
        allowed: [%s]
      - name: amount
        type: decimal
        min: 0
      - name: created_at
        type: timestamp
`

// contractRuns is how many times each commit of v2 is timed.
const contractRuns = 3

// ContractResult is the data contract benchmark.
type ContractResult struct {
	// Without and With: dx commit of v2 on v1 (page cache dropped), on
	// a branch without the contract and on one with it; medians.
	Without       []float64 `json:"without_seconds"`
	With          []float64 `json:"with_seconds"`
	WithoutMedian float64   `json:"without_median_seconds"`
	WithMedian    float64   `json:"with_median_seconds"`
	// CheckedBytes: what checking v2's tables read (both versions,
	// uncompressed; dx commit --json's verified.table_bytes_checked), of
	// TableBytes.
	CheckedBytes int64 `json:"checked_bytes"`
	TableBytes   int64 `json:"table_bytes"`
	// AddSeconds: the commit that adds the contract, which checks the
	// whole table; CheckSeconds: dx check of the whole table.
	AddSeconds   float64 `json:"add_contract_seconds"`
	CheckSeconds float64 `json:"check_seconds"`
	Error        string  `json:"error,omitempty"`
}

// contract runs the contract benchmark in repo, whose HEAD is v2 and
// HEAD~1 v1 of ds, and puts main back as it was.
func (b *bench) contract(ds *dataset, repo string, tableBytes int64) *ContractResult {
	res := &ContractResult{TableBytes: tableBytes}
	fail := func(format string, args ...any) *ContractResult {
		res.Error = fmt.Sprintf(format, args...)
		logf("  dx contract benchmark FAILED: %s", res.Error)
		return res
	}
	dx := func(args ...string) (runResult, error) {
		r := b.rn.run(repo, nil, b.cfg.dx, args...)
		if r.Err != nil {
			return r, fmt.Errorf("dx %s: %s", strings.Join(args, " "), r.errLine())
		}
		return r, nil
	}
	contractFile := filepath.Join(repo, "dx.contract.yaml")
	text := fmt.Sprintf(benchContract, ds.tablePath, strings.Join(cities, ", "))
	defer func() {
		os.Remove(contractFile)
		if _, err := dx("checkout", "--quiet", "--force", "main"); err != nil {
			logf("  %v", err)
		}
	}()
	logf("  the data contract: dx commit of v2 with a contract of 8 rules, and without ...")
	if _, err := dx("branch", "bench-v1", "HEAD~1"); err != nil {
		return fail("%v", err)
	}
	// v1 with the contract: its commit checks the whole table.
	if _, err := dx("branch", "bench-c1", "bench-v1"); err != nil {
		return fail("%v", err)
	}
	if _, err := dx("checkout", "--quiet", "--force", "bench-c1"); err != nil {
		return fail("%v", err)
	}
	if err := os.WriteFile(contractFile, []byte(text), 0o644); err != nil {
		return fail("%v", err)
	}
	r, _ := b.timed(repo, "commit", "--quiet", "-m", "contract")
	if r.Err != nil {
		return fail("adding the contract: %s", r.errLine())
	}
	res.AddSeconds = r.Seconds
	r, _ = b.timed(repo, "check")
	if r.Err != nil {
		return fail("dx check: %s", r.errLine())
	}
	res.CheckSeconds = r.Seconds
	for i := range contractRuns {
		for _, with := range []bool{false, true} {
			base, name := "bench-v1", fmt.Sprintf("bench-plain%d", i)
			if with {
				base, name = "bench-c1", fmt.Sprintf("bench-contract%d", i)
			}
			if _, err := dx("branch", name, base); err != nil {
				return fail("%v", err)
			}
			if _, err := dx("checkout", "--quiet", "--force", name); err != nil {
				return fail("%v", err)
			}
			if !with {
				os.Remove(contractFile)
			}
			if _, err := ds.applyV2(repo); err != nil {
				return fail("generating v2: %v", err)
			}
			r, _ := b.timed(repo, "commit", "--json", "-m", "v2")
			if r.Err != nil {
				return fail("commit of v2: %s", r.errLine())
			}
			var out struct {
				Verified struct {
					Bytes int64 `json:"table_bytes_checked"`
				} `json:"verified"`
			}
			if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
				return fail("commit --json: %v", err)
			}
			if with {
				res.With = append(res.With, r.Seconds)
				res.CheckedBytes = out.Verified.Bytes
			} else {
				res.Without = append(res.Without, r.Seconds)
			}
		}
	}
	res.WithoutMedian, res.WithMedian = median(res.Without), median(res.With)
	logf("  dx commit of v2: without a contract %s (median %.2fs), with %s (median %.2fs) = %.2f×; the check read %s of the %s table; adding the contract %.2fs, dx check %.2fs",
		seconds(res.Without), res.WithoutMedian, seconds(res.With), res.WithMedian, res.WithMedian/res.WithoutMedian,
		human(res.CheckedBytes), human(res.TableBytes), res.AddSeconds, res.CheckSeconds)
	return res
}

// Contract targets (issue 19).
const (
	targetContractCommit = "contract: dx commit of v2 with a contract of 8 rules ≤ 1.15× without"
	targetContractRead   = "contract: bytes read to check v2's contract ≤ 10% of the table"
)

// contractMarkdown writes the contract paragraph of the table dataset.
func contractMarkdown(p func(format string, args ...any), c *ContractResult) {
	if c == nil || c.Error != "" {
		return
	}
	p("dx data contract (`dx.contract.yaml` of 8 rules on the table: id int and required, a regex on name and on email, city among 32 values, amount a decimal ≥ 0, created_at a timestamp). `dx commit` of v2 on v1 on a branch without the contract: %s (median %.2f s); on one with it: %s (median %.2f s), %.2f×, each from v1 checked out and v2 written anew, page cache dropped; the check read %s (the chunks of v2 that v1 lacks, uncompressed) = %.1f%% of the %s table. Adding the contract (a commit that checks the whole table): %.2f s = %.0f MB/s; `dx check` of the whole table: %.2f s = %.0f MB/s.\n\n",
		seconds(c.Without), c.WithoutMedian, seconds(c.With), c.WithMedian, c.WithMedian/c.WithoutMedian,
		human(c.CheckedBytes), 100*float64(c.CheckedBytes)/float64(max(1, c.TableBytes)), human(c.TableBytes),
		c.AddSeconds, mbps(c.TableBytes, c.AddSeconds), c.CheckSeconds, mbps(c.TableBytes, c.CheckSeconds))
}

// evaluateContract adds the contract targets of dataset d.
func evaluateContract(add func(target, ds, result, format string, args ...any), d string, c *ContractResult) {
	if c == nil {
		return
	}
	if c.Error != "" || len(c.With) == 0 {
		for _, t := range []string{targetContractCommit, targetContractRead} {
			add(t, d, "FAIL", "%s", okOr(c.Error, "not measured"))
		}
		return
	}
	ratio := c.WithMedian / c.WithoutMedian
	add(targetContractCommit, d, passFail(ratio <= 1.15), "%.2f× (median %.2f s with, %.2f s without; %s and %s)",
		ratio, c.WithMedian, c.WithoutMedian, seconds(c.With), seconds(c.Without))
	f := float64(c.CheckedBytes) / float64(max(1, c.TableBytes))
	add(targetContractRead, d, passFail(f <= 0.10), "%s = %.1f%% of the %s table (the chunks of v2 that v1 lacks, uncompressed)",
		human(c.CheckedBytes), 100*f, human(c.TableBytes))
}
