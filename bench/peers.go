package main

// Peer tools measured on the same data: restic, borg and git-lfs.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// peer describes how to drive one comparable tool.
type peer struct {
	name string
	bins []string // all must be on PATH
	// version prints the version (first line of output is kept)
	version []string
	// env returns extra environment for every command run in dir
	env func(dir string) []string
	// dataRoot is where the dataset is generated
	dataRoot func(dir string) string
	// store is the directory whose size is the stored size
	store func(dir string) string
	// setup creates the empty repository (untimed)
	setup func(dir string) [][]string
	// snapshot returns the commands of one backup/commit labelled label
	snapshot func(dir, label string) [][]string
	// ok reports whether a failed command may be taken as success
	ok func(r runResult) (bool, string)
}

var peers = []*peer{
	{
		name:    "restic",
		bins:    []string{"restic"},
		version: []string{"restic", "version"},
		env: func(dir string) []string {
			return []string{"RESTIC_PASSWORD=bench", "RESTIC_CACHE_DIR=" + filepath.Join(dir, "cache"), "RESTIC_PROGRESS_FPS=0.01"}
		},
		dataRoot: func(dir string) string { return filepath.Join(dir, "data") },
		store:    func(dir string) string { return filepath.Join(dir, "repo") },
		setup: func(dir string) [][]string {
			return [][]string{{"restic", "init", "--quiet", "--repo", filepath.Join(dir, "repo")}}
		},
		snapshot: func(dir, label string) [][]string {
			return [][]string{{"restic", "-r", filepath.Join(dir, "repo"), "backup", "--quiet", "--tag", label, filepath.Join(dir, "data")}}
		},
	},
	{
		name:    "borg",
		bins:    []string{"borg"},
		version: []string{"borg", "--version"},
		env: func(dir string) []string {
			return []string{"BORG_PASSPHRASE=", "BORG_BASE_DIR=" + filepath.Join(dir, "borgbase"),
				"BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes", "BORG_RELOCATED_REPO_ACCESS_IS_OK=yes"}
		},
		dataRoot: func(dir string) string { return filepath.Join(dir, "data") },
		store:    func(dir string) string { return filepath.Join(dir, "repo") },
		setup: func(dir string) [][]string {
			return [][]string{{"borg", "init", "-e", "none", filepath.Join(dir, "repo")}}
		},
		snapshot: func(dir, label string) [][]string {
			return [][]string{{"borg", "create", "--compression", "zstd,1", filepath.Join(dir, "repo") + "::" + label, "data"}}
		},
		ok: func(r runResult) (bool, string) {
			if r.ExitCode == 1 { // borg: warning, archive was created
				return true, "borg warning: " + firstOutputLine(r.Stderr)
			}
			return false, ""
		},
	},
	{
		name:    "git-lfs",
		bins:    []string{"git", "git-lfs"},
		version: []string{"git", "lfs", "version"},
		env: func(dir string) []string {
			return []string{"HOME=" + filepath.Join(dir, "home"), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
				"GIT_AUTHOR_NAME=bench", "GIT_AUTHOR_EMAIL=bench@example.com",
				"GIT_COMMITTER_NAME=bench", "GIT_COMMITTER_EMAIL=bench@example.com"}
		},
		dataRoot: func(dir string) string { return filepath.Join(dir, "wt") },
		store:    func(dir string) string { return filepath.Join(dir, "wt", ".git") },
		setup: func(dir string) [][]string {
			wt := filepath.Join(dir, "wt")
			return [][]string{
				{"git", "init", "-q", wt},
				{"git", "-C", wt, "config", "gc.auto", "0"},
				{"git", "-C", wt, "config", "commit.gpgsign", "false"},
				{"git", "-C", wt, "lfs", "install", "--local"},
				{"git", "-C", wt, "lfs", "track", "*.csv", "*.log", "*.bin", "*.dat"},
			}
		},
		snapshot: func(dir, label string) [][]string {
			wt := filepath.Join(dir, "wt")
			return [][]string{
				{"git", "-C", wt, "add", "-A"},
				{"git", "-C", wt, "commit", "-q", "-m", label},
			}
		},
		ok: func(r runResult) (bool, string) {
			if nothingToCommit(r) {
				return true, ""
			}
			return false, ""
		},
	},
}

func peerByName(name string) *peer {
	for _, p := range peers {
		if p.name == name {
			return p
		}
	}
	return nil
}

// PeerInfo records whether a peer tool is available.
type PeerInfo struct {
	Name      string `json:"name"`
	Installed bool   `json:"installed"`
	Version   string `json:"version,omitempty"`
	Missing   string `json:"missing,omitempty"`
}

func detectPeer(p *peer) PeerInfo {
	info := PeerInfo{Name: p.name, Installed: true}
	var missing []string
	for _, b := range p.bins {
		if _, err := exec.LookPath(b); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		info.Installed = false
		info.Missing = strings.Join(missing, ", ") + " not on PATH"
		return info
	}
	out, err := exec.Command(p.version[0], p.version[1:]...).CombinedOutput()
	if err != nil {
		info.Installed = false
		info.Missing = fmt.Sprintf("%s: %v", strings.Join(p.version, " "), err)
		return info
	}
	info.Version = firstOutputLine(string(out))
	return info
}

// step drops caches and runs the commands of one snapshot; it returns the
// summed wall time and the largest peak RSS.
func (b *bench) step(p *peer, dir, label string) (secs float64, rss int64, note string, err error) {
	env := p.env(dir)
	b.lastDrop = b.drop.drop()
	logf("  %s %s ...", p.name, label)
	for _, args := range p.snapshot(dir, label) {
		r := b.rn.run(dir, env, args[0], args[1:]...)
		secs += r.Seconds
		rss = max(rss, r.MaxRSSKiB)
		if r.Err != nil {
			ok, n := false, ""
			if p.ok != nil {
				ok, n = p.ok(r)
			}
			if !ok {
				return secs, rss, "", fmt.Errorf("%s: %s", strings.Join(args[:min(3, len(args))], " "), r.errLine())
			}
			if n != "" {
				note = n
			}
		}
	}
	logf("  %s %s: %.2fs, peak RSS %.0f MiB", p.name, label, secs, float64(rss)/1024)
	return secs, rss, note, nil
}

// measurePeer runs first snapshot, no-change re-run and second snapshot of
// ds with peer p in a fresh directory.
func (b *bench) measurePeer(ds *dataset, p *peer, res *Result, dir string) {
	logf("--- %s on %s", p.name, ds.name)
	res.Status = "ok"
	fail := func(format string, args ...any) {
		res.Status = "failed"
		res.Error = fmt.Sprintf(format, args...)
		logf("  %s FAILED: %s", p.name, res.Error)
	}
	for _, d := range []string{dir, filepath.Join(dir, "home")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			fail("%v", err)
			return
		}
	}
	env := p.env(dir)
	for _, args := range p.setup(dir) {
		if r := b.rn.run(dir, env, args[0], args[1:]...); r.Err != nil {
			fail("setup: %s: %s", strings.Join(args, " "), r.errLine())
			return
		}
	}
	root := p.dataRoot(dir)
	v1, err := b.gen(ds.name+" v1 for "+p.name, func() (genInfo, error) { return ds.genV1(root) })
	if err != nil {
		fail("generating v1: %v", err)
		return
	}
	addNote := func(n string) {
		if n != "" {
			res.Notes = append(res.Notes, n)
		}
	}

	secs, rss, note, err := b.step(p, dir, "v1")
	res.CachesDropped = b.lastDrop
	if err != nil {
		fail("first snapshot: %v", err)
		return
	}
	addNote(note)
	stored, err := dirSize(p.store(dir))
	if err != nil {
		fail("sizing store: %v", err)
		return
	}
	res.FirstSeconds = new(secs)
	res.FirstMBps = new(mbps(v1.Bytes, secs))
	res.FirstStoredBytes = new(stored)
	res.FirstRSSKiB = new(rss)
	res.PeakRSSKiB = new(rss)
	logf("  %s first: %.1f MB/s, stored %s", p.name, *res.FirstMBps, human(stored))

	secs, rss, note, err = b.step(p, dir, "again")
	if err != nil {
		fail("no-change re-run: %v", err)
		return
	}
	addNote(note)
	res.RecommitSeconds = new(secs)
	res.RecommitRatio = new(secs / *res.FirstSeconds)
	res.PeakRSSKiB = new(max(*res.PeakRSSKiB, rss))

	if ds.applyV2 == nil {
		return
	}
	before, err := dirSize(p.store(dir))
	if err != nil {
		fail("sizing store: %v", err)
		return
	}
	if _, err := b.gen(ds.name+" v2 in place for "+p.name, func() (genInfo, error) { return ds.applyV2(root) }); err != nil {
		fail("generating v2: %v", err)
		return
	}
	secs, rss, note, err = b.step(p, dir, "v2")
	if err != nil {
		fail("second snapshot: %v", err)
		return
	}
	addNote(note)
	after, err := dirSize(p.store(dir))
	if err != nil {
		fail("sizing store: %v", err)
		return
	}
	res.SecondSeconds = new(secs)
	res.GrowthBytes = new(after - before)
	res.GrowthPct = new(100 * float64(after-before) / float64(max(1, stored)))
	res.PeakRSSKiB = new(max(*res.PeakRSSKiB, rss))
	logf("  %s second: %.2fs, store grew %s = %.2f%% of first", p.name, secs, human(after-before), *res.GrowthPct)
}
