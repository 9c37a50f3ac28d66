// Package serve is `dx serve`: an S3-compatible read gateway to every
// version of one or more repositories, and a small JSON API for data
// under /v1/ (api.go, rows.go).
//
// Nouns:
//   - Bucket: a repository, named after its directory or as given.
//   - Key: REF/PATH. REF is a branch, a tag, a full commit id, or
//     model:NAME@VERSION (the data commit a model version was trained on,
//     showing only the paths it was trained on). PATH is a file of that
//     commit's tree. A branch or tag whose name holds a "/" is reached by
//     its commit id.
//   - View: the repository opened read-only, shared by the requests in
//     flight (view.go).
//   - Chunk cache: decoded chunks by id, shared by all requests and
//     bounded in bytes (chunkcache.go). Chunks are content-addressed, so a
//     cached chunk is valid in every version and every view.
//     A range bigger than a quarter of the cache goes through it only
//     while other responses stream the same file (stream.go): alone, it
//     would evict every other chunk and none would be read back.
//   - File cache: decoded copies of whole files on disk, each named by its
//     File id, bounded in bytes (filecache.go). A whole GET of a file not
//     kept writes the copy as it streams the verified chunks, and names it
//     only once complete; later GETs of that content, whole or ranged, are
//     sent from the copy by sendfile and decode nothing; a file asked for
//     in ranges that add up to half of it is filled in the background
//     (hotfill.go). A File id names one content forever, so a copy is
//     valid in every version.
//
// The repository stays usable by the CLI while the server runs: the
// server holds no lock between requests. A read-only open of the store
// takes a shared lock that keeps writers (dx commit, checkout, gc) out, so
// the server opens the repository read-only when a request needs it,
// shares that view with the requests that arrive while it is open, and
// closes it viewLinger after the last one is done (a client's next
// request reuses it meanwhile). A view serves new requests for at most
// maxViewAge; after it closes, new
// requests wait writerWindow before opening another, so a writer waiting
// for the lock (it retries every 50 ms) gets it even under a steady
// stream of requests. A response body is written to the client outside
// the view: under it, the range's chunks are located in the index (by a
// goroutine that never waits for the client) and their packs held open;
// they are then read, decoded and written without it (stream.go), so a
// slow client never holds the lock. Since a request names its file by
// content id and holds its packs open, all its bytes are of one version
// even when a commit or gc runs meanwhile.
//
// Refs are read on each request from the view it runs under; a view is
// opened after any writer finished, so a commit or a pull is visible to
// the next request.
//
// Authentication: AWS Signature Version 4 (Authorization header or
// presigned query), verified against the credentials the server was given
// (sigv4.go). The payload hash a client signs is not checked against the
// body: the gateway reads no bodies. Unsigned requests are served only
// with Options.Anonymous. Every call that would write (PUT, POST, DELETE)
// gets AccessDenied; read calls the gateway does not implement (ACLs,
// versions, tagging, …) get NotImplemented.
package serve
