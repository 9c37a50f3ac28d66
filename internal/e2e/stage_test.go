package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dxdata/dx/internal/faultinject"
)

// stageRepo is a repository with one data commit and three versions of
// the model churn, whose artifacts hold "v1", "v2" and "v3".
func stageRepo(t *testing.T, r *repoDir) {
	t.Helper()
	r.write("data/t.csv", "id,v\n1,a\n2,b\n")
	r.ok("commit", "-m", "data")
	for v := 1; v <= 3; v++ {
		art := filepath.Join(t.TempDir(), "model.bin")
		writeBytes(t, art, []byte(fmt.Sprintf("v%d", v)))
		r.ok("model", "register", "churn", "--artifact", art, "--data", "HEAD:data")
	}
}

// stageMove is a move of a stage as `dx model log --json` lists it.
type stageMove struct {
	ID      string `json:"id"`
	Stage   string `json:"stage"`
	Action  string `json:"action"`
	From    int    `json:"from"`
	To      int    `json:"to"`
	Author  string `json:"author"`
	Time    string `json:"time"`
	Message string `json:"message"`
}

// modelLog reads `dx model log NAME --json`: the versions (numbers) and
// the stage moves, newest first.
func modelLog(t *testing.T, r *repoDir, name string) (versions []int, moves []stageMove) {
	t.Helper()
	var events []struct {
		Version *struct {
			Version int      `json:"version"`
			Stages  []string `json:"stages"`
		} `json:"version"`
		Stage *stageMove `json:"stage"`
	}
	if err := json.Unmarshal([]byte(r.ok("model", "log", name, "--json")), &events); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		switch {
		case e.Version != nil:
			versions = append(versions, e.Version.Version)
		case e.Stage != nil:
			moves = append(moves, *e.Stage)
		default:
			t.Fatalf("model log entry with neither a version nor a stage move")
		}
	}
	return versions, moves
}

// sameStageHistory checks that two repositories hold the same moves of
// churn's stages (ids, authors, times and all).
func sameStageHistory(t *testing.T, a, b *repoDir) {
	t.Helper()
	_, aMoves := modelLog(t, a, "churn")
	_, bMoves := modelLog(t, b, "churn")
	if len(aMoves) == 0 || fmt.Sprint(aMoves) != fmt.Sprint(bMoves) {
		t.Fatalf("the stages' history did not travel:\n%+v\n%+v", aMoves, bMoves)
	}
}

// stageOf is the version NAME@STAGE resolves to, read by dx model show.
func stageOf(t *testing.T, r *repoDir, spec string) int {
	t.Helper()
	var mv struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal([]byte(r.ok("model", "show", spec, "--json")), &mv); err != nil {
		t.Fatal(err)
	}
	return mv.Version
}

// TestModelStages: promote, re-promote, demote; NAME@STAGE wherever
// NAME@V goes; the stage log says who moved which stage when, from which
// version to which; list, show and lineage name the stages; bad input
// fails with one line and its exit code, changing nothing.
func TestModelStages(t *testing.T) {
	r := newRepo(t)
	stageRepo(t, r)
	r.env = []string{"DX_AUTHOR=Alice <alice@example.com>"}
	if out := r.ok("model", "promote", "churn@1", "production", "-m", "first release"); !strings.Contains(out, "Promoted churn@1 to production") {
		t.Fatalf("promote: %s", out)
	}
	r.env = []string{"DX_AUTHOR=Bob <bob@example.com>"}
	r.ok("model", "promote", "churn@3", "staging")
	// Promoting from another stage: production takes what staging holds.
	if out := r.ok("model", "promote", "churn@staging", "production", "--expect", "1"); !strings.Contains(out, "replacing churn@1") {
		t.Fatalf("re-promote: %s", out)
	}
	// The same version again writes nothing.
	if out := r.ok("model", "promote", "churn@3", "production"); !strings.Contains(out, "already") {
		t.Fatalf("promoting the same version: %s", out)
	}
	var same struct {
		Unchanged bool   `json:"unchanged"`
		Author    string `json:"author"`
	}
	if err := json.Unmarshal([]byte(r.ok("model", "promote", "churn@3", "production", "--json")), &same); err != nil ||
		!same.Unchanged || same.Author != "Bob <bob@example.com>" {
		t.Fatalf("promoting the same version, --json: %+v %v", same, err)
	}
	if v := stageOf(t, r, "churn@production"); v != 3 {
		t.Fatalf("churn@production = %d, want 3", v)
	}
	// NAME@STAGE in checkout and lineage.
	out := filepath.Join(t.TempDir(), "prod")
	r.ok("model", "checkout", "churn@production", out)
	if b, err := os.ReadFile(filepath.Join(out, "model.bin")); err != nil || string(b) != "v3" {
		t.Fatalf("checkout churn@production: %q %v", b, err)
	}
	if lin := r.ok("lineage", "churn@staging"); !strings.HasPrefix(lin, "churn@3 [production, staging] was trained on:") {
		t.Fatalf("lineage churn@staging:\n%s", lin)
	}
	var lin1 struct {
		Moves []stageMove `json:"stage_moves"`
	}
	if err := json.Unmarshal([]byte(r.ok("lineage", "churn@1", "--json")), &lin1); err != nil {
		t.Fatal(err)
	}
	checkMoves(t, lin1.Moves, []stageMove{ // the moves onto and off churn@1
		{Stage: "production", Action: "promote", From: 1, To: 3, Author: "Bob <bob@example.com>"},
		{Stage: "production", Action: "promote", From: 0, To: 1, Author: "Alice <alice@example.com>", Message: "first release"},
	})
	if lin := r.ok("lineage", "data/t.csv"); !strings.Contains(lin, "churn@3 ") || !strings.Contains(lin, "[production, staging]") {
		t.Fatalf("lineage of the data does not name the stages:\n%s", lin)
	}

	// The log: every move, newest first, with who, from and to.
	versions, moves := modelLog(t, r, "churn")
	if fmt.Sprint(versions) != "[3 2 1]" {
		t.Fatalf("versions in the log: %v", versions)
	}
	want := []stageMove{
		{Stage: "production", Action: "promote", From: 1, To: 3, Author: "Bob <bob@example.com>"},
		{Stage: "staging", Action: "promote", From: 0, To: 3, Author: "Bob <bob@example.com>"},
		{Stage: "production", Action: "promote", From: 0, To: 1, Author: "Alice <alice@example.com>", Message: "first release"},
	}
	checkMoves(t, moves, want)
	if text := r.ok("model", "log", "churn"); !strings.Contains(text, "production: churn@1 → churn@3  by Bob <bob@example.com> at ") {
		t.Fatalf("model log text:\n%s", text)
	}

	// Demote: the stage is gone, its history stays.
	if out := r.ok("model", "demote", "churn", "staging", "-m", "retired"); !strings.Contains(out, "Took staging off churn@3") {
		t.Fatalf("demote: %s", out)
	}
	r.fails("churn has no stage staging (demoted from churn@3", "model", "show", "churn@staging")
	r.fails("no stage staging", "model", "demote", "churn", "staging")
	r.ok("model", "promote", "churn@2", "canary")
	r.ok("model", "promote", "--remove", "churn", "canary")
	var staging []stageMove
	if err := json.Unmarshal([]byte(r.ok("model", "log", "churn@staging", "--json")), &staging); err != nil {
		t.Fatal(err)
	}
	checkMoves(t, staging, []stageMove{
		{Stage: "staging", Action: "demote", From: 3, To: 0, Author: "Bob <bob@example.com>", Message: "retired"},
		{Stage: "staging", Action: "promote", From: 0, To: 3, Author: "Bob <bob@example.com>"},
	})

	// list and show, text and JSON, name the stages.
	r.ok("model", "promote", "churn@2", "staging")
	var list []struct {
		Name        string         `json:"name"`
		Version     int            `json:"version"`
		Stages      []string       `json:"stages"`
		ModelStages map[string]int `json:"model_stages"`
	}
	if err := json.Unmarshal([]byte(r.ok("model", "list", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Version != 3 || fmt.Sprint(list[0].Stages) != "[production]" ||
		fmt.Sprint(list[0].ModelStages) != "map[production:3 staging:2]" {
		t.Fatalf("model list --json: %+v", list)
	}
	if text := r.ok("model", "list"); !strings.Contains(text, "production (this version), staging (churn@2)") {
		t.Fatalf("model list:\n%s", text)
	}
	if show := r.ok("model", "show", "churn@2"); !strings.Contains(show, "stages   production (churn@3), staging (this version)") {
		t.Fatalf("model show:\n%s", show)
	}

	// Bad input: one line, its exit code, nothing moved.
	before := r.ok("model", "log", "churn", "--json")
	for _, tc := range []struct {
		want string
		code int
		args []string
	}{
		{`"nope": unknown model`, exitError, []string{"model", "promote", "nope@1", "production"}},
		{"churn has no version 9 (latest is 3)", exitError, []string{"model", "promote", "churn@9", "production"}},
		{"churn has no stage qa", exitError, []string{"model", "promote", "churn@qa", "production"}},
		{"invalid stage name", exitError, []string{"model", "promote", "churn@1", "prod uction"}},
		{"a number names a version, not a stage", exitError, []string{"model", "promote", "churn@1", "42"}},
		{"invalid stage name", exitError, []string{"model", "promote", "churn@1", "a/b"}},
		{"invalid stage name", exitError, []string{"model", "promote", "churn@1", ".hidden"}},
		{"invalid stage name", exitError, []string{"model", "show", "churn@-x"}},
		{`"nope": unknown model`, exitError, []string{"model", "demote", "nope", "production"}},
		{"want a version number or none", exitError, []string{"model", "promote", "churn@1", "production", "--expect", "latest"}},
		{"production of churn is on churn@3, not on churn@1: the stage moved meanwhile", exitNotFastForward,
			[]string{"model", "promote", "churn@2", "production", "--expect", "1"}},
		{"the stage moved meanwhile", exitNotFastForward, []string{"model", "demote", "churn", "production", "--expect", "none"}},
		{"name the version", exitUsage, []string{"model", "promote", "churn", "production"}},
		{"name the model alone", exitUsage, []string{"model", "demote", "churn@1", "production"}},
		{"accepts 2 arg(s)", exitUsage, []string{"model", "promote", "churn@1"}},
	} {
		res := r.fails(tc.want, tc.args...)
		if res.code != tc.code {
			t.Errorf("dx %s: exit %d, want %d", strings.Join(tc.args, " "), res.code, tc.code)
		}
	}
	if after := r.ok("model", "log", "churn", "--json"); after != before {
		t.Fatalf("a refused command changed the model's history")
	}
	// gc keeps every move and what it names; fsck checks them.
	r.ok("gc", "--prune")
	r.ok("fsck")
	if _, moves := modelLog(t, r, "churn"); len(moves) != 7 {
		t.Fatalf("after gc: %d moves, want 7", len(moves))
	}
	if log := r.ok("log", "--all", "--oneline"); strings.Count(log, "\n") != 1 {
		t.Fatalf("log --all walks stage refs as commits:\n%s", log)
	}
	// A promoter whose clock is years behind: the stage's log keeps the
	// order of its moves, not of their times.
	r.env = []string{"DX_DATE=2001-01-01T00:00:00Z", "DX_AUTHOR=Carol <carol@example.com>"}
	r.ok("model", "promote", "churn@1", "production")
	var prod []stageMove
	if err := json.Unmarshal([]byte(r.ok("model", "log", "churn@production", "--json")), &prod); err != nil {
		t.Fatal(err)
	}
	if len(prod) != 3 || prod[0].Author != "Carol <carol@example.com>" || prod[0].From != 3 || prod[0].To != 1 {
		t.Fatalf("the stage's log under a skewed clock: %+v", prod)
	}
}

// checkMoves compares moves with want (ids and times set, the rest equal).
func checkMoves(t *testing.T, got, want []stageMove) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d moves, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.ID == "" || g.Time == "" {
			t.Errorf("move %d lacks its id or time: %+v", i, g)
		}
		g.ID, g.Time = "", ""
		if g != w {
			t.Errorf("move %d = %+v, want %+v", i, g, w)
		}
	}
}

// TestModelStageRace: several processes promote different versions to
// the same stage at once, each expecting the version it read; exactly one
// wins, the others exit 5 with one line and change nothing, and the
// stage's history holds the one move.
func TestModelStageRace(t *testing.T) {
	for round := 0; round < 3; round++ {
		r := newRepo(t)
		stageRepo(t, r)
		r.ok("model", "promote", "churn@1", "production")
		results := make([]result, 3)
		var wg sync.WaitGroup
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = r.run("model", "promote", fmt.Sprintf("churn@%d", i+1), "production", "--expect", "1", "-m", fmt.Sprint("racer ", i))
			}()
		}
		wg.Wait()
		won := -1
		for i, res := range results {
			switch {
			case i == 0 && res.code == 0:
				// churn@1 is where the stage was: a no-op when it ran first.
			case res.code == 0:
				if won >= 0 {
					t.Fatalf("round %d: racers %d and %d both won", round, won, i)
				}
				won = i
			case res.code == exitNotFastForward:
				checkFailure(t, res, "the stage moved meanwhile", nil)
			default:
				t.Fatalf("round %d: racer %d: exit %d: %s", round, i, res.code, res.stderr)
			}
		}
		if won < 0 {
			t.Fatalf("round %d: nobody won: %+v", round, results)
		}
		_, moves := modelLog(t, r, "churn")
		if len(moves) != 2 || moves[0].Message != fmt.Sprint("racer ", won) || moves[0].From != 1 {
			t.Fatalf("round %d: moves %+v, want the winner's (racer %d) over the first", round, moves, won)
		}
		if v := stageOf(t, r, "churn@production"); v != won+1 {
			t.Fatalf("round %d: production on %d, want %d", round, v, won+1)
		}
	}
}

// TestModelStagesTravel: stages and their history go with push --all,
// push MODEL, clone, fetch and pull, through a directory and a real
// MinIO; a stage moved on the remote meanwhile is a non-fast-forward
// (exit 5) unless it descends, and push --force replaces it.
func TestModelStagesTravel(t *testing.T) {
	bothRemotes(t, func(t *testing.T, rs remoteSetup) {
		hub := rs.repo(t)
		stageRepo(t, hub)
		hub.ok("model", "promote", "churn@1", "production")
		hub.ok("model", "promote", "churn@2", "production", "-m", "better auc")
		hub.ok("model", "promote", "churn@3", "staging")
		hub.ok("push", "--all")

		edge := rs.clone(t)
		if v := stageOf(t, edge, "churn@production"); v != 2 {
			t.Fatalf("clone: churn@production = %d, want 2", v)
		}
		sameStageHistory(t, hub, edge)
		out := filepath.Join(t.TempDir(), "m")
		edge.ok("model", "checkout", "churn@production", out)
		if b, err := os.ReadFile(filepath.Join(out, "model.bin")); err != nil || string(b) != "v2" {
			t.Fatalf("artifact on the edge: %q %v", b, err)
		}
		edge.ok("fsck")

		// The hub promotes again and pushes the model alone (its stages
		// go with it); the edge fetches, and the stage moves forward.
		// A promotion sends one object, its move, and fetches as one.
		hub.ok("model", "promote", "churn@staging", "production")
		pushed := pushJSONOf(t, hub.ok("push", "origin", "churn", "--json"))
		if !strings.Contains(fmt.Sprint(pushed["refs"]), "refs/stages/churn/production") {
			t.Fatalf("push churn did not carry its stages: %v", pushed["refs"])
		}
		if pushed["objects"].(float64) != 1 || pushed["chunks"].(float64) != 0 {
			t.Fatalf("a promotion sent %v objects (%v chunks), want the move alone", pushed["objects"], pushed["chunks"])
		}
		if fetched := pushJSONOf(t, edge.ok("fetch", "--json")); fetched["objects"].(float64) != 1 {
			t.Fatalf("fetching a promotion stored %v objects, want the move alone", fetched["objects"])
		}
		if v := stageOf(t, edge, "churn@production"); v != 3 {
			t.Fatalf("after fetch: churn@production = %d, want 3", v)
		}
		// A descendant pushes: the edge promotes on top and pushes.
		edge.ok("model", "promote", "churn@1", "production", "-m", "rollback")
		edge.ok("push", "--all")
		hub.ok("pull")
		if v := stageOf(t, hub, "churn@production"); v != 1 {
			t.Fatalf("after pull: churn@production = %d, want 1", v)
		}

		// Both move the stage: the second push is a non-fast-forward.
		hub.ok("model", "promote", "churn@2", "production")
		hub.ok("push", "--all")
		edge.ok("model", "promote", "churn@3", "production")
		res := edge.fails("refs/stages/churn/production: non-fast-forward", "push", "--all")
		if res.code != exitNotFastForward {
			t.Fatalf("push of a diverged stage: exit %d, want %d", res.code, exitNotFastForward)
		}
		if f := edge.ok("fetch"); !strings.Contains(f, "diverged from the remote; kept") {
			t.Fatalf("fetch of a diverged stage:\n%s", f)
		}
		if v := stageOf(t, edge, "churn@production"); v != 3 {
			t.Fatalf("fetch overwrote the local stage: %d", v)
		}
		if out := edge.ok("push", "--all", "--force"); !strings.Contains(out, "forced") {
			t.Fatalf("push --force: %s", out)
		}
		late := rs.clone(t)
		if v := stageOf(t, late, "churn@production"); v != 3 {
			t.Fatalf("after the forced push: churn@production = %d, want 3", v)
		}
		late.ok("fsck")

		// Two edges promote from the same state and push at once: both
		// are fast-forwards of what they read, and the remote's
		// compare-and-swap lets one through; the other exits 5.
		e1, e2 := rs.clone(t), rs.clone(t)
		e1.ok("model", "promote", "churn@1", "production")
		e2.ok("model", "promote", "churn@2", "production")
		results := make([]result, 2)
		var wg sync.WaitGroup
		for i, e := range []*repoDir{e1, e2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = e.run("push", "origin", "churn")
			}()
		}
		wg.Wait()
		won := 0
		for _, res := range results {
			switch res.code {
			case 0:
				won++
			case exitNotFastForward:
				checkFailure(t, res, "refs/stages/churn/production", nil)
			default:
				t.Fatalf("racing push: exit %d: %s", res.code, res.stderr)
			}
		}
		if won != 1 {
			t.Fatalf("%d racing pushes of the stage won, want 1: %+v", won, results)
		}
	})
}

// TestModelPromoteFaults: dx model promote killed at, or failed with
// ENOSPC/EIO by, each of its writes, fsyncs, renames and unlinks: after
// each, fsck is clean, the stage is where it was or where it was sent
// (never elsewhere, its history one move longer at most), and a retry
// lands it.
func TestModelPromoteFaults(t *testing.T) {
	self := faultTracer(t)
	tmpl := newRepo(t)
	stageRepo(t, tmpl)
	tmpl.ok("model", "promote", "churn@1", "production")
	args := []string{"model", "promote", "churn@2", "production", "--expect", "1"}
	count, _, _ := runFaulted(t, self, copyRepo(t, tmpl), faultinject.Plan{Class: faultinject.Write}, args)
	var plans []faultinject.Plan
	for _, class := range faultinject.Classes {
		plans = append(plans, faultPlans(class, count.Counts[class], os.Getenv("DX_FAULT_LONG") != "")...)
	}
	t.Logf("dx %s: calls %v; %d faults", strings.Join(args, " "), count.Counts, len(plans))
	for _, plan := range plans {
		r := copyRepo(t, tmpl)
		if _, out, hung := runFaulted(t, self, r, plan, args); hung {
			t.Fatalf("%v: dx hung: %s", plan, out)
		}
		if res := r.run("fsck"); res.code != 0 {
			t.Fatalf("%v: fsck: %s%s", plan, res.stdout, res.stderr)
		}
		_, moves := modelLog(t, r, "churn")
		switch v := stageOf(t, r, "churn@production"); {
		case v == 1 && len(moves) == 1:
			r.ok(args...) // the retry
		case v == 2 && len(moves) == 2:
		default:
			t.Fatalf("%v: production on churn@%d with %d moves: neither before nor after", plan, v, len(moves))
		}
		if v := stageOf(t, r, "churn@production"); v != 2 {
			t.Fatalf("%v: after the retry production is on churn@%d", plan, v)
		}
	}
}

// TestGoldenModelStages pins the text and JSON of the model listings with
// stages, for a fixed history (author and dates pinned, so ids too).
func TestGoldenModelStages(t *testing.T) {
	r := newRepo(t)
	at := func(ts string) { r.env = []string{"TZ=UTC", "DX_DATE=" + ts, "DX_AUTHOR=Ada <ada@example.com>"} }
	at("2026-01-02T03:04:05Z")
	r.write("data/t.csv", "id,v\n1,a\n2,b\n")
	r.ok("commit", "-m", "data")
	art := filepath.Join(t.TempDir(), "model.bin")
	for v, ts := range []string{"2026-01-02T04:00:00Z", "2026-01-02T05:00:00Z"} {
		at(ts)
		writeBytes(t, art, []byte(fmt.Sprintf("weights v%d", v+1)))
		r.ok("model", "register", "churn", "--artifact", art, "--data", "HEAD:data/t.csv", "--metric", fmt.Sprintf("auc=0.8%d", v))
	}
	at("2026-01-02T06:00:00Z")
	r.ok("model", "promote", "churn@1", "production", "-m", "first release")
	at("2026-01-02T07:00:00Z")
	r.ok("model", "promote", "churn@2", "staging")
	at("2026-01-02T08:00:00Z")
	r.ok("model", "promote", "churn@staging", "production", "--expect", "1")
	at("2026-01-02T09:00:00Z")
	r.ok("model", "demote", "churn", "staging", "-m", "retired")
	for _, g := range []struct {
		name string
		args []string
	}{
		{"model-log.txt", []string{"model", "log", "churn"}},
		{"model-log.json", []string{"model", "log", "churn", "--json"}},
		{"model-stage-log.txt", []string{"model", "log", "churn@production"}},
		{"model-show.txt", []string{"model", "show", "churn@production"}},
		{"model-list.json", []string{"model", "list", "--json"}},
		{"lineage-model.txt", []string{"lineage", "churn@1"}},
	} {
		check(t, g.name, r.ok(g.args...))
	}
}

// TestModelStagesReplicate: stages and their history go from region A to
// region B with dx replicate --all, and with a model named alone; a stage
// promoted on B on its own is reported diverged (exit 5) and kept.
func TestModelStagesReplicate(t *testing.T) {
	g := newRegions(t)
	w := g.w
	stageRepo(t, w)
	w.ok("model", "promote", "churn@1", "production")
	w.ok("model", "promote", "churn@2", "production")
	w.ok("push", "a", "--all")
	rep := replicateJSONOf(t, w.ok("replicate", "a", "b", "--all", "--json"))
	if !strings.Contains(fmt.Sprint(rep.Refs), "refs/stages/churn/production") {
		t.Fatalf("replicate --all did not copy the stage: %+v", rep.Refs)
	}
	edge := g.b.clone(t)
	edge.ok("fsck")
	if v := stageOf(t, edge, "churn@production"); v != 2 {
		t.Fatalf("region B: churn@production = %d, want 2", v)
	}
	sameStageHistory(t, w, edge)

	// A model named alone brings its stages; a promotion is one small pack.
	w.ok("model", "promote", "churn@3", "production")
	w.ok("push", "a", "churn")
	rep = replicateJSONOf(t, w.ok("replicate", "a", "b", "churn", "--json"))
	if !strings.Contains(fmt.Sprint(rep.Refs), "refs/stages/churn/production") || rep.Packs != 1 {
		t.Fatalf("replicate churn: %d packs, refs %+v", rep.Packs, rep.Refs)
	}
	edge.ok("fetch")
	if v := stageOf(t, edge, "churn@production"); v != 3 {
		t.Fatalf("region B after replicate churn: churn@production = %d, want 3", v)
	}

	// Region B promotes on its own, then A again: B's stage is kept.
	edge.ok("model", "promote", "churn@1", "production", "-m", "rollback in B")
	edge.ok("push", "origin", "churn")
	w.ok("model", "promote", "churn@2", "production")
	w.ok("push", "a", "churn")
	res := w.exits(exitNotFastForward, "refs/stages/churn/production", "replicate", "a", "b", "--all")
	if !strings.Contains(res.stdout, "diverged") {
		t.Fatalf("the stage is not reported as diverged:\n%s", res.stdout)
	}
	if v := stageOf(t, g.b.clone(t), "churn@production"); v != 1 {
		t.Fatalf("region B's own promotion was overwritten: churn@production = %d", v)
	}
}
