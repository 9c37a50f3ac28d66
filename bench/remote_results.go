package main

// The remote benchmark's results: per dataset, one per tool.

// RemoteReport is the remote benchmark: dx against a local MinIO, beside
// the aws CLI and restic's S3 backend on the same server.
type RemoteReport struct {
	Status   string          `json:"status"` // ok, skipped, failed (the server)
	Error    string          `json:"error,omitempty"`
	MinIO    string          `json:"minio,omitempty"`    // server binary
	Endpoint string          `json:"endpoint,omitempty"` // http://127.0.0.1:PORT
	AWS      PeerInfo        `json:"aws_cli"`
	Restic   PeerInfo        `json:"restic"`
	Datasets []*RemoteResult `json:"datasets"`
	// Subscribe is the regions benchmark, run on the table's repositories.
	Subscribe *SubscribeReport `json:"subscribe,omitempty"`
	// GC is the shared-remote collection, run on the table's repository.
	GC *RemoteGCResult `json:"gc,omitempty"`
	// Serve is the dx serve benchmark, run on the table's repository.
	Serve *ServeReport `json:"serve,omitempty"`
}

// RemoteResult is one dataset's remote numbers, one row per tool (dx,
// aws, restic).
type RemoteResult struct {
	Dataset string              `json:"dataset"`
	Title   string              `json:"title"`
	V1Bytes int64               `json:"v1_bytes"`
	V1Files int                 `json:"v1_files"`
	V2Bytes int64               `json:"v2_bytes,omitempty"`
	V2Files int                 `json:"v2_files,omitempty"`
	V2Desc  string              `json:"v2_desc,omitempty"`
	Results []*RemoteToolResult `json:"results"`
}

func (d *RemoteResult) result(tool string) *RemoteToolResult {
	for _, r := range d.Results {
		if r.Tool == tool {
			return r
		}
	}
	return nil
}

// RemoteToolResult is one tool on one dataset against MinIO. MB/s is
// 10^6 bytes of the dataset's raw v1 bytes per wall-clock second,
// whatever the tool actually sends. "Push" is dx push of v1, aws s3 cp
// up, restic backup of v1; "clone" is dx clone, aws s3 cp down;
// "incremental" is dx push of v2 after v1, restic backup of v2 after v1.
type RemoteToolResult struct {
	Tool             string    `json:"tool"`
	Version          string    `json:"version,omitempty"`
	Status           string    `json:"status"` // ok, failed, wrong clone, wrong pull, not installed, not requested
	Error            string    `json:"error,omitempty"`
	SetupSeconds     *float64  `json:"setup_seconds"` // restic init
	PushSeconds      *float64  `json:"push_seconds"`
	PushMBps         *float64  `json:"push_mb_per_s"`
	PushBytesSent    *int64    `json:"push_bytes_sent"`   // as dx reports it
	PushRemoteBytes  *int64    `json:"push_remote_bytes"` // object bytes under the tool's prefix afterwards
	CloneSeconds     *float64  `json:"clone_seconds"`
	CloneMBps        *float64  `json:"clone_mb_per_s"`
	CloneBytesRead   *int64    `json:"clone_bytes_read"`
	CloneRequests    *int64    `json:"clone_requests"`
	CloneVerify      string    `json:"clone_verify,omitempty"`
	IncrSeconds      *float64  `json:"incremental_seconds"`
	IncrBytesSent    *int64    `json:"incremental_bytes_sent"`          // as dx reports it
	IncrRemoteGrowth *int64    `json:"incremental_remote_growth_bytes"` // growth of the tool's prefix
	IncrLocalGrowth  *int64    `json:"incremental_local_growth_bytes"`  // growth of .dx/ committing v2
	PullSeconds      *float64  `json:"pull_seconds"`                    // the median of PullRuns
	PullRuns         []float64 `json:"pull_runs,omitempty"`
	// PullCpRuns: cp of the table's file, page cache dropped, right after
	// each pull (a table dataset's; the bound of its ≤ 2× cp row).
	PullCpRuns    []float64 `json:"pull_cp_runs,omitempty"`
	PullBytesRead *int64    `json:"pull_bytes_read"`
	PullVerify    string    `json:"pull_verify,omitempty"`
	PeakRSSKiB    *int64    `json:"peak_rss_kib"`
	Push          *pushJSON `json:"push,omitempty"`             // dx push --json of v1
	Incr          *pushJSON `json:"incremental_push,omitempty"` // and of v2
	CachesDropped bool      `json:"caches_dropped"`
	Notes         []string  `json:"notes,omitempty"`
}
