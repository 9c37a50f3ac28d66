#!/usr/bin/env bash
# The MinIO server the tests run against: a pinned version built from the Go
# module proxy (about 4 minutes on 2 cores, once) and cached outside the work
# tree.
#
#   scripts/minio.sh install      build it if missing; print the binary's path
#   scripts/minio.sh path         print where the binary is (or would be)
set -euo pipefail
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
cache=${DX_MINIO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dx-minio}/$MINIO_VERSION
bin=$cache/minio

case "${1:-}" in
path)
	echo "$bin"
	;;
install)
	if [ ! -x "$bin" ]; then
		echo "building MinIO $MINIO_VERSION into $cache (once; about 4 minutes) ..." >&2
		mkdir -p "$cache"
		tmp=$(mktemp -d "$cache/build.XXXXXX")
		trap 'rm -rf "$tmp"' EXIT
		GOBIN=$tmp GOFLAGS=-mod=mod go install "github.com/minio/minio@$MINIO_VERSION" >&2
		mv "$tmp/minio" "$bin"
	fi
	echo "$bin"
	;;
*)
	echo "usage: $0 install|path" >&2
	exit 2
	;;
esac
