# dx — see README.md. Every target works on a fresh machine with Go installed.
GO       ?= go
BIN      := bin/dx
# Fuzz budgets are counts of runs, not durations: with a duration, Go 1.26's
# fuzz coordinator can fail a target with "context deadline exceeded" at the
# end of the time on a loaded machine (golang/go#75804, fixed in Go 1.27).
FUZZTIME ?= 20000x
# Fuzz targets as package:Name pairs.
FUZZ := ./dag:FuzzDecodeTreeNode ./dag:FuzzDecodeFileNode ./dag:FuzzDecodeCommit ./dag:FuzzDecodeModel ./dag:FuzzDecodeStageMove \
        ./store/pack:FuzzDecodeIndex ./store/pack:FuzzReadIndex ./internal/locfile:FuzzParse ./store/chunker:FuzzChunker ./store/chunker/parquetcut:FuzzPlan \
        ./internal/table:FuzzChunkKeys ./internal/table:FuzzFastRows ./internal/table:FuzzFastFields \
        ./internal/profile:FuzzDecode ./internal/serve:FuzzParseRange ./internal/serve:FuzzSignature

.PHONY: all build test unit e2e fuzz fuzz-short fault bench bench-smoke demo vet cross clean minio

all: build

# A static binary: cgo for the zstd C library (store/pack/codec_cgo.go),
# linked statically with Go's own resolver and user lookup (netgo,
# osusergo), so that no dynamic loader adds to every command's start-up.
# internal/e2e builds its binary with the same flags.
BUILDFLAGS := -tags netgo,osusergo -ldflags '-linkmode=external -extldflags=-static'
build:
	CGO_ENABLED=1 $(GO) build $(BUILDFLAGS) -o $(BIN) ./cmd/dx

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# The whole suite as CI runs it: vet, unit and end-to-end tests (which build
# and drive the real dx binary), and a short run of every fuzz target. Tests
# that need S3 start the pinned MinIO that scripts/minio.sh builds (once,
# cached outside the work tree); here they fail rather than skip without it.
# The fault-injection tests (internal/e2e/fault_test.go) need ptrace on
# linux/amd64, and here fail rather than skip without it; so does the
# test of dx ui in a real terminal without tmux (scripts/tools.sh installs
# it from Debian's packages when it is missing), and the CSV corpus test
# without python3, whose csv module is its oracle. The timeout is a net for a
# hung test, far above what the end-to-end package takes on a loaded 2-core
# machine.
test: vet cross build minio
	bash scripts/tools.sh
	DX_MINIO_BIN=$$(bash scripts/minio.sh path) DX_REQUIRE_MINIO=1 DX_REQUIRE_TMPFS=1 DX_REQUIRE_FAULT=1 DX_REQUIRE_TMUX=1 DX_REQUIRE_PYTHON=1 DX_REQUIRE_DUCKDB=1 $(GO) test -count=1 -timeout 45m ./...
	$(MAKE) --no-print-directory fuzz-short

# dx builds for macOS and Windows (pure Go, as CGO_ENABLED=0 builds it).
cross:
	GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/dx
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/dx

# Build (once) the pinned MinIO server the tests use.
minio:
	bash scripts/minio.sh install

fuzz-short:
	@for t in $(FUZZ); do pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
	  $(GO) test $$pkg -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) >/tmp/dx-fuzz.log 2>&1 || { cat /tmp/dx-fuzz.log; exit 1; }; \
	done

# Long runs too: the remote collector against pushers for 200 cycles.
fuzz: build minio
	$(MAKE) --no-print-directory fuzz-short FUZZTIME=500000x
	DX_MINIO_BIN=$$(bash scripts/minio.sh path) DX_REQUIRE_MINIO=1 DX_GC_LONG=1 $(GO) test -count=1 -timeout 30m -run '^TestRemoteGCWithPushers$$' ./internal/e2e

# Every write, fsync, rename and unlink of every fault scenario, killed and
# failed (make test runs a sample); failures known on main fail here too.
fault:
	DX_REQUIRE_FAULT=1 DX_FAULT_LONG=1 $(GO) test -count=1 -timeout 60m -run '^TestFaults$$' -v ./internal/e2e

# Full benchmark (1 GiB table, 20,000 files, 4 GiB file, peers, and push and
# clone against the pinned MinIO); writes bench/RESULTS.md.
bench: build minio
	bash bench/install-peers.sh || true
	bash scripts/tools.sh
	$(GO) run ./bench -dx $(BIN) -minio $$(bash scripts/minio.sh path) -out bench/RESULTS.md -json bench/results.json

# A 2% scale run of the harness, for checking it works.
bench-smoke: build minio
	$(GO) run ./bench -dx $(BIN) -minio $$(bash scripts/minio.sh path) -scale 0.02 -skip-big -out /tmp/dx-bench-smoke.md -json /tmp/dx-bench-smoke.json

demo: build
	bash scripts/demo.sh $(BIN)

clean:
	rm -rf bin
