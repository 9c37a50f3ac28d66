package main

// The dx serve benchmark's section of the report and its targets.

const (
	targetServeGet    = "dx serve: repeated whole-table GET ≥ 1.0× MinIO's MB/s"
	targetServeRange  = "dx serve: 4 KiB ranged GET p50 and p99 below MinIO's"
	targetServeRow    = "dx serve: row by key < 5 ms p50 warm, < 50 ms cold"
	targetServeMemory = "dx serve: < 512 MiB with 64 whole-table readers"
)

func (rep *Report) serveMarkdown(p func(format string, args ...any)) {
	sr := rep.Remote.Serve
	if sr == nil {
		return
	}
	p("### dx serve\n\n")
	if sr.Status != "ok" {
		p("**%s**: %s\n\n", sr.Status, mdEscape(sr.Error))
	}
	p("The table (%s) at main through `dx serve`'s S3 gateway, against MinIO serving a plain copy of the same bytes, both read with minio-go (SigV4); rows by key through the data API. ", human(sr.TableBytes))
	p("The gateway's first whole GET decodes every chunk (zstd and BLAKE3) and keeps the decoded file in its file cache; its repeated GETs, and the ranged GETs and the %d readers after them, are sent from that copy (sendfile), as MinIO sends its file: the target compares the repeated GETs (the median of %d each, taken in turns), and the first GETs stand beside them.\n\n", serveReaders, serveRepeats)
	p("| figure | dx serve | MinIO | target |\n|---|---:|---:|---|\n")
	p("| whole-table GET, repeated, MB/s | %s | %s | ≥ 1.0× MinIO |\n", fmtF(sr.DxGetMBps, 0), fmtF(sr.MinioGetMBps, 0))
	p("| whole-table GET, first (dx: decoding, keeping the copy), MB/s | %s | %s | |\n", fmtF(sr.DxFirstGetMBps, 0), fmtF(sr.MinioFirstGetMBps, 0))
	p("| 4 KiB ranged GET at a random offset, p50 ms (%d) | %s | %s | faster than MinIO |\n", serveRanges, fmtF(sr.DxRangeP50ms, 2), fmtF(sr.MinioRangeP50ms, 2))
	p("| 4 KiB ranged GET, p99 ms | %s | %s | faster than MinIO |\n", fmtF(sr.DxRangeP99ms, 2), fmtF(sr.MinioRangeP99ms, 2))
	p("| row by key, p50 ms warm (%d) | %s | — | < 5 |\n", serveLookups, fmtF(sr.RowWarmP50ms, 2))
	p("| row by key, ms cold (a fresh server's first request; the page cache as the run left it) | %s | — | < 50 |\n", fmtF(sr.RowColdms, 1))
	p("| chunks read a lookup (of %d, the header's included) | %s | — | |\n", sr.RowChunks, fmtF(sr.RowChunksRead, 1))
	p("| peak resident memory after %d concurrent whole-table readers, MiB | %s | — | < 512 |\n\n", serveReaders, fmtF(sr.PeakRSSMiB, 0))
}

func (rep *Report) evaluateServe(add func(target, ds, result, format string, args ...any)) {
	sr := rep.Remote.Serve
	if sr == nil {
		return
	}
	missing := func(t string) {
		msg := "not measured"
		if sr.Error != "" {
			msg = sr.Error
		}
		add(t, "table", "FAIL", "%s", msg)
	}
	if sr.DxGetMBps != nil && sr.MinioGetMBps != nil {
		ratio := *sr.DxGetMBps / *sr.MinioGetMBps
		add(targetServeGet, "table", passFail(ratio >= 1), "%.0f MB/s vs MinIO's %.0f (%.2f×); first GETs %s vs %s MB/s (dx decoding)",
			*sr.DxGetMBps, *sr.MinioGetMBps, ratio, fmtF(sr.DxFirstGetMBps, 0), fmtF(sr.MinioFirstGetMBps, 0))
	} else {
		missing(targetServeGet)
	}
	if sr.DxRangeP99ms != nil && sr.MinioRangeP99ms != nil {
		add(targetServeRange, "table", passFail(*sr.DxRangeP50ms < *sr.MinioRangeP50ms && *sr.DxRangeP99ms < *sr.MinioRangeP99ms),
			"p50 %.2f ms vs %.2f, p99 %.2f ms vs %.2f", *sr.DxRangeP50ms, *sr.MinioRangeP50ms, *sr.DxRangeP99ms, *sr.MinioRangeP99ms)
	} else {
		missing(targetServeRange)
	}
	if sr.RowWarmP50ms != nil && sr.RowColdms != nil {
		add(targetServeRow, "table", passFail(*sr.RowWarmP50ms < 5 && *sr.RowColdms < 50), "warm p50 %.2f ms, cold %.1f ms, %.1f of %d chunks read a lookup",
			*sr.RowWarmP50ms, *sr.RowColdms, fromPtr(sr.RowChunksRead), sr.RowChunks)
	} else {
		missing(targetServeRow)
	}
	if sr.PeakRSSMiB != nil {
		add(targetServeMemory, "table", passFail(*sr.PeakRSSMiB < 512), "peak RSS %.0f MiB", *sr.PeakRSSMiB)
	} else {
		missing(targetServeMemory)
	}
}
