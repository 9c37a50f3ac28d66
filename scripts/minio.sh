#!/usr/bin/env bash
# The MinIO server the tests run against: a pinned version built from the Go
# module proxy (about 4 minutes on 2 cores, once) and cached outside the work
# tree.
#
# The pinned version carries an upstream regression (minio/minio#21651):
# its trackingResponseWriter does not forward Flush, so ListenBucketNotification
# never streams anything to the client. The build adds the two forwarding
# methods of the upstream fix (scripts/minio-listen-fix.go), so that the
# subscriber's notification path can be tested; nothing else changes.
#
#   scripts/minio.sh install      build it if missing; print the binary's path
#   scripts/minio.sh path         print where the binary is (or would be)
set -euo pipefail
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${DX_MINIO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dx-minio}/$MINIO_VERSION-listenfix
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
		trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
		src=$(GOFLAGS=-mod=mod go mod download -json "github.com/minio/minio@$MINIO_VERSION" |
			sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
		cp -r "$src" "$tmp/src"
		chmod -R u+w "$tmp/src"
		sed "/^\/\/go:build ignore$/d" "$here/minio-listen-fix.go" >"$tmp/src/cmd/zz_dx_listen_fix.go"
		(cd "$tmp/src" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$tmp/minio" . >&2)
		mv "$tmp/minio" "$bin"
	fi
	echo "$bin"
	;;
*)
	echo "usage: $0 install|path" >&2
	exit 2
	;;
esac
