package main

// The report of one run, written as Markdown and as JSON.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// Report is everything one run measured; it is written as JSON as is.
type Report struct {
	Machine        Machine          `json:"machine"`
	Command        []string         `json:"command"`
	DX             string           `json:"dx"`
	DXVersion      string           `json:"dx_version,omitempty"`
	Scale          float64          `json:"scale"`
	Seed           uint64           `json:"seed"`
	SkipBig        bool             `json:"skip_big"`
	CacheDrop      string           `json:"cache_drop"`
	CachesDropped  bool             `json:"caches_dropped"`
	Peers          []PeerInfo       `json:"peers"`
	Datasets       []*DatasetResult `json:"datasets"`
	Remote         *RemoteReport    `json:"remote,omitempty"`
	UI             *UIReport        `json:"ui,omitempty"`
	Targets        []Target         `json:"targets"`
	Summary        string           `json:"summary"`
	Started        string           `json:"started"`
	Finished       string           `json:"finished"`
	ElapsedSeconds float64          `json:"elapsed_seconds"`
	Complete       bool             `json:"complete"`
	Interrupted    bool             `json:"interrupted,omitempty"`
}

// writeReports writes the Markdown report and the JSON results, each where
// its flag says (none if empty); final says the run is over.
func (b *bench) writeReports(final bool) {
	b.rep.Finished = time.Now().UTC().Format(time.RFC3339)
	b.rep.ElapsedSeconds = time.Since(start).Seconds()
	b.rep.Complete = final && !b.rep.Interrupted
	b.rep.CacheDrop = b.drop.summary()
	b.rep.CachesDropped = b.drop.ok > 0 && b.drop.fail == 0
	b.rep.evaluate()
	for _, w := range []struct {
		path string
		data func() ([]byte, error)
	}{
		{b.cfg.out, func() ([]byte, error) { return []byte(b.rep.Markdown()), nil }},
		{b.cfg.jsonOut, func() ([]byte, error) {
			j, err := json.MarshalIndent(b.rep, "", "  ")
			return append(j, '\n'), err
		}},
	} {
		if w.path == "" {
			continue
		}
		data, err := w.data()
		if err == nil {
			if dir := filepath.Dir(w.path); dir != "." {
				err = os.MkdirAll(dir, 0o755)
			}
		}
		if err == nil {
			err = os.WriteFile(w.path, data, 0o644)
		}
		if err != nil {
			logf("error writing %s: %v", w.path, err)
		} else if final {
			logf("wrote %s", w.path)
		}
	}
}

// portable is p as the report records it: relative to the directory the
// bench runs in (the repository) when beneath it, else with the home
// directory written ~, so that the committed report names no path of the
// machine that ran it. Other text is returned as is.
func portable(p string) string {
	if !filepath.IsAbs(p) {
		return p
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, p); err == nil && filepath.IsLocal(rel) {
			return rel
		}
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		if rel, err := filepath.Rel(home, p); err == nil && filepath.IsLocal(rel) {
			return filepath.Join("~", rel)
		}
	}
	return p
}
