package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestModelRegistry: register versions against data commits, list, show,
// log, check out, lineage both ways, bad input, gc keeps what models name,
// and models travel with push and clone.
func TestModelRegistry(t *testing.T) {
	rs := fileRemote(t)
	r := rs.repo(t)
	table, _ := genCSV(9, 2000)
	r.write("data/t.csv", table)
	r.write("other/readme.txt", "x\n")
	r.ok("commit", "-m", "data v1")
	c1 := headID(t, r)
	art := filepath.Join(t.TempDir(), "model.bin")
	writeBytes(t, art, randomBytes(30, 200<<10))

	var v1 map[string]any
	if err := json.Unmarshal([]byte(r.ok("model", "register", "churn", "--artifact", art, "--data", "HEAD:data", "--param", "lr=0.1", "--metric", "auc=0.81", "--json")), &v1); err != nil {
		t.Fatal(err)
	}
	if v1["version"].(float64) != 1 {
		t.Fatalf("first version: %v", v1)
	}
	r.write("data/t.csv", table+"2000,name2000,1.00,new\n")
	r.ok("commit", "-m", "data v2")
	c2 := headID(t, r)
	writeBytes(t, art, randomBytes(31, 200<<10))
	// Inside a git checkout the code revision is recorded, dirty or not.
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", r.dir, "-c", "user.name=t", "-c", "user.email=t@t"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	r.write("train.py", "print('train')\n")
	git("init", "-q")
	git("add", "train.py")
	git("commit", "-q", "-m", "code")
	r.write("train.py", "print('train v2')\n")
	r.ok("model", "register", "churn", "--artifact", art, "--data", "HEAD")
	if show := r.ok("model", "show", "churn@2"); !strings.Contains(show, "code ") || !strings.Contains(show, "uncommitted") {
		t.Fatalf("model show lacks the dirty code revision:\n%s", show)
	}
	if st := r.ok("status", "--short"); strings.Contains(st, ".git") {
		t.Fatalf("dx versions git's store:\n%s", st)
	}

	var list []map[string]any
	if err := json.Unmarshal([]byte(r.ok("model", "list", "--json")), &list); err != nil || len(list) != 1 || list[0]["version"].(float64) != 2 {
		t.Fatalf("model list: %v %v", err, list)
	}
	if log := r.ok("model", "log", "churn"); strings.Count(log, "churn@") != 2 {
		t.Fatalf("model log: %s", log)
	}
	show := r.ok("model", "show", "churn@1")
	for _, want := range []string{c1[:12] + ":data", "lr=0.1", "auc=0.81"} {
		if !strings.Contains(show, want) {
			t.Fatalf("model show lacks %q:\n%s", want, show)
		}
	}
	// Checkout writes the artifact byte for byte.
	out := filepath.Join(t.TempDir(), "m1")
	r.ok("model", "checkout", "churn@1", out)
	got, err := os.ReadFile(filepath.Join(out, "model.bin"))
	if err != nil || string(got) != string(randomBytes(30, 200<<10)) {
		t.Fatalf("model checkout: %v", err)
	}
	// Lineage, model → data.
	var lin map[string]any
	if err := json.Unmarshal([]byte(r.ok("lineage", "churn@1", "--json")), &lin); err != nil {
		t.Fatal(err)
	}
	data := lin["data"].([]any)[0].(map[string]any)
	if data["commit"] != c1 || data["paths"].([]any)[0] != "data" {
		t.Fatalf("lineage churn@1: %v", data)
	}
	// Data → models.
	users := func(arg string) []string {
		var ms []map[string]any
		if err := json.Unmarshal([]byte(r.ok("lineage", arg, "--json")), &ms); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range ms {
			out = append(out, m["name"].(string)+"@"+strings.TrimSuffix(strings.TrimSuffix(jsonNum(m["version"]), ".0"), ".00"))
		}
		return out
	}
	if u := users(c1); len(u) != 2 {
		t.Fatalf("lineage %s: %v, want both versions (v2's data descends from it)", c1[:8], u)
	}
	if u := users(c2); len(u) != 1 || u[0] != "churn@2" {
		t.Fatalf("lineage %s: %v, want churn@2", c2[:8], u)
	}
	if u := users("data/t.csv"); len(u) != 2 {
		t.Fatalf("lineage data/t.csv: %v", u)
	}
	if u := users("other/readme.txt"); len(u) != 1 || u[0] != "churn@2" {
		t.Fatalf("lineage other/readme.txt: %v, want only churn@2 (v1 used data/ only)", u)
	}
	// Bad input: one clear line, nothing changed.
	r.fails("unknown model", "model", "show", "nope")
	r.fails("no version 9", "model", "show", "churn@9")
	r.fails("is not in", "model", "register", "churn", "--artifact", art, "--data", "HEAD:missing")
	r.fails("unknown revision", "model", "register", "churn", "--artifact", art, "--data", "nosuchrev")
	r.fails("artifact", "model", "register", "churn", "--artifact", filepath.Join(t.TempDir(), "absent"), "--data", "HEAD")
	if log := r.ok("model", "log", "churn"); strings.Count(log, "churn@") != 2 {
		t.Fatalf("a failed register changed the model: %s", log)
	}
	// gc keeps what a model names, even on a deleted branch.
	r.ok("branch", "exp")
	r.ok("checkout", "exp")
	r.write("data/exp.csv", "id\n1\n")
	r.ok("commit", "-m", "experiment")
	r.ok("model", "register", "exp-model", "--artifact", art, "--data", "HEAD:data/exp.csv")
	r.ok("checkout", "main")
	r.ok("branch", "-D", "exp")
	r.ok("gc", "--prune")
	r.ok("fsck")
	r.ok("log", "--all", "--oneline") // model refs name models, not commits
	r.ok("model", "checkout", "exp-model", filepath.Join(t.TempDir(), "exp"))
	// Models travel with push and clone.
	r.ok("push", "--all")
	c := rs.clone(t)
	if l := c.ok("model", "list"); !strings.Contains(l, "churn@2") || !strings.Contains(l, "exp-model@1") {
		t.Fatalf("models did not travel: %s", l)
	}
	c.ok("lineage", "churn@1")
	c.ok("fsck")
}

func jsonNum(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func headID(t *testing.T, r *repoDir) string {
	t.Helper()
	var log []map[string]any
	if err := json.Unmarshal([]byte(r.ok("log", "-n", "1", "--json")), &log); err != nil || len(log) != 1 {
		t.Fatalf("log --json: %v", err)
	}
	return log[0]["id"].(string)
}
