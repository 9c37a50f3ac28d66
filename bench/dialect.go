package main

// The other-dialect benchmark: the Dolt-scale table's two versions written
// with ';' for delimiter (`delimiter=;` in .dxattributes), committed in a
// repository of their own, and the row diff between them, against the
// same diff of the ',' table in the same run. dx's chunker cuts CSV as the
// default dialect reads it; a table of another dialect costs what changed
// once its chunks' effect on the reading state is known. The quoted
// variant has every 16th row's note quoted over two lines, with a ';' in
// it: to the chunker a quote after ';' is text, so some cuts fall inside
// those notes, and the diff reads across those cuts alone.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// DialectResult is the other-dialect benchmark.
type DialectResult struct {
	// FirstSeconds and SecondSeconds: dx commit of v1, then of v2 on it
	// (page cache dropped), each checking the table.
	FirstSeconds  float64        `json:"first_commit_seconds"`
	SecondSeconds float64        `json:"second_commit_seconds"`
	RowDiff       *RowDiffResult `json:"row_diff,omitempty"`
	PeakRSSKiB    int64          `json:"peak_rss_kib"`
	Error         string         `json:"error,omitempty"`
}

// otherDialect runs the benchmark in a repository beside repo, from ds's
// generator; quoted, the notes of every 16th row span two lines.
func (b *bench) otherDialect(ds *dataset, repo string, quoted bool) *DialectResult {
	res := &DialectResult{}
	fail := func(format string, args ...any) *DialectResult {
		res.Error = fmt.Sprintf(format, args...)
		logf("  dx other-dialect benchmark FAILED: %s", res.Error)
		return res
	}
	dir := filepath.Join(filepath.Dir(repo), "dx-semicolon")
	if quoted {
		dir += "-quoted"
	}
	defer os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail("%v", err)
	}
	if r := b.rn.run(dir, nil, b.cfg.dx, "init"); r.Err != nil {
		return fail("dx init: %s", r.errLine())
	}
	if err := os.WriteFile(filepath.Join(dir, ".dxattributes"), []byte("*.csv table=csv delimiter=; key=id\n"), 0o644); err != nil {
		return fail("%v", err)
	}
	logf("  the table written with ';' (quoted notes over two lines: %v): dx commit of v1 and v2, and the row diff ...", quoted)
	if _, err := ds.genV1(dir); err != nil {
		return fail("generating v1: %v", err)
	}
	if err := semicolons(filepath.Join(dir, ds.tablePath), quoted); err != nil {
		return fail("%v", err)
	}
	r, _ := b.timed(dir, "commit", "--quiet", "-m", "v1")
	if r.Err != nil {
		return fail("commit of v1: %s", r.errLine())
	}
	res.FirstSeconds, res.PeakRSSKiB = r.Seconds, r.MaxRSSKiB
	v2, err := ds.applyV2(dir)
	if err != nil {
		return fail("generating v2: %v", err)
	}
	if err := semicolons(filepath.Join(dir, ds.tablePath), quoted); err != nil {
		return fail("%v", err)
	}
	r, _ = b.timed(dir, "commit", "--quiet", "-m", "v2")
	if r.Err != nil {
		return fail("commit of v2: %s", r.errLine())
	}
	res.SecondSeconds, res.PeakRSSKiB = r.Seconds, max(res.PeakRSSKiB, r.MaxRSSKiB)
	if res.RowDiff = b.rowDiff(dir, v2); res.RowDiff == nil {
		return fail("the row diff failed")
	}
	return res
}

// semicolons rewrites a generated table with ';' for delimiter: its fields
// hold no ',', ';' or quote, so each ',' is a delimiter. quoted, the last
// field of each row whose first field is a multiple of 16 becomes
// "v;\nv": the same rows in both versions, so the changes stay the
// generator's.
func semicolons(path string, quoted bool) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if bytes.ContainsAny(b, ";\"") {
		return fmt.Errorf("%s holds ';' or a quote: it cannot be rewritten by replacing its commas", path)
	}
	b = bytes.ReplaceAll(b, []byte(","), []byte(";"))
	if !quoted {
		return os.WriteFile(path, b, 0o644)
	}
	out := make([]byte, 0, len(b)+len(b)/8)
	for i, line := range bytes.SplitAfter(b, []byte("\n")) {
		id, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.Atoi(string(id))
		body, nl := bytes.CutSuffix(line, []byte("\n"))
		k := bytes.LastIndexByte(body, ';')
		if i == 0 || err != nil || n%16 != 0 || !nl || k < 0 {
			out = append(out, line...)
			continue
		}
		v := body[k+1:]
		out = append(append(append(out, body[:k+1]...), '"'), v...)
		out = append(append(append(out, ";\n"...), v...), "\"\n"...)
	}
	return os.WriteFile(path, out, 0o644)
}

// Other-dialect targets; the quoted variant's with the quoted suffix.
const (
	targetDialectRead = "other dialect: the row diff of a ';' table reads ≤ 10% of its bytes"
	targetDialectTime = "other dialect: the row diff of a ';' table ≤ 2× the same diff of the ',' table"
	quotedSuffix      = ", notes quoted over two lines"
)

// dialectMarkdown writes the other-dialect paragraph of the dataset.
func dialectMarkdown(p func(format string, args ...any), c *DialectResult, comma *RowDiffResult, quoted bool) {
	if c == nil || c.Error != "" || c.RowDiff == nil {
		return
	}
	rd := c.RowDiff
	what := "The same table written with `;` for delimiter (`delimiter=;` in `.dxattributes`; dx's chunker cuts CSV as the default dialect reads it, and the commit's table check learns what each chunk does to the `;` dialect's reading state)"
	if quoted {
		what = "The `;` table with the note of every 16th row quoted over two lines, with a `;` in it (`\"v;\\nv\"`: to the chunker a quote after `;` is text, so some cuts fall inside these notes and the diff reads across them)"
	}
	p("%s, in a repository of its own: `dx commit` of v1 %.2f s, of v2 on it %.2f s, peak RSS %s MiB; `dx diff --rows` %.2f s (the `,` table's: %s), read %s of %s (%.1f%%), parsed %s; rows +%d −%d ~%d (generator: %s).\n\n",
		what, c.FirstSeconds, c.SecondSeconds, fmtMiB(&c.PeakRSSKiB, 1024), rd.Seconds, commaSeconds(comma),
		human(rd.BytesRead), human(rd.BytesTotal), 100*float64(rd.BytesRead)/float64(max(1, rd.BytesTotal)),
		human(rd.BytesParsed), rd.Added, rd.Removed, rd.Changed, rd.Expected)
}

func commaSeconds(rd *RowDiffResult) string {
	if rd == nil {
		return "not measured"
	}
	return fmt.Sprintf("%.2f s", rd.Seconds)
}

// evaluateDialect adds the other-dialect targets of dataset d (of the
// quoted variant, with quoted).
func evaluateDialect(add func(target, ds, result, format string, args ...any), d string, c *DialectResult, comma *RowDiffResult, quoted bool) {
	if c == nil {
		return
	}
	targetDialectRead, targetDialectTime := targetDialectRead, targetDialectTime
	if quoted {
		targetDialectRead += quotedSuffix
		targetDialectTime += quotedSuffix
	}
	if c.Error != "" || c.RowDiff == nil {
		for _, t := range []string{targetDialectRead, targetDialectTime} {
			add(t, d, "FAIL", "%s", okOr(c.Error, "not measured"))
		}
		return
	}
	rd := c.RowDiff
	f := float64(rd.BytesRead) / float64(max(1, rd.BytesTotal))
	add(targetDialectRead, d, passFail(f <= 0.10 && rd.Correct), "read %s = %.1f%% of %s (both versions); rows right: %v",
		human(rd.BytesRead), 100*f, human(rd.BytesTotal), rd.Correct)
	if comma == nil {
		add(targetDialectTime, d, "FAIL", "the ',' table's row diff was not measured")
		return
	}
	ratio := rd.Seconds / max(comma.Seconds, 1e-9)
	add(targetDialectTime, d, passFail(ratio <= 2), "%.2f× (%.2f s against %.2f s, page cache dropped)", ratio, rd.Seconds, comma.Seconds)
}
