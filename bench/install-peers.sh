#!/usr/bin/env bash
# Installs the peer tools the benchmark compares dx against: restic,
# borgbackup and git-lfs, the aws CLI (the baseline of the remote
# benchmark), rclone (the regions benchmark) and mkfs.xfs (a file system
# that shares extents, for the worktree benchmark), from the
# distribution's packages (apt-get).
#
# Idempotent: tools already on PATH are skipped quietly. A failure is
# reported clearly but does not abort the benchmark: `go run ./bench`
# reports a missing peer as "not installed".
#
# Usage: bash bench/install-peers.sh   (as root, or with sudo available)
set -u

declare -A pkg_for=([restic]=restic [borg]=borgbackup [git-lfs]=git-lfs [aws]=awscli [rclone]=rclone [mkfs.xfs]=xfsprogs)
missing=()
for bin in restic borg git-lfs aws rclone mkfs.xfs; do
	command -v "$bin" >/dev/null 2>&1 || missing+=("${pkg_for[$bin]}")
done
# git-lfs is driven through git.
command -v git >/dev/null 2>&1 || missing+=(git)

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-peers: apt-get not found; install these by hand: ${missing[*]}" >&2
	echo "install-peers: the benchmark will report the missing peers as \"not installed\"" >&2
	exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo=(sudo)
	else
		echo "install-peers: not root and no sudo; cannot install: ${missing[*]}" >&2
		exit 1
	fi
fi

echo "install-peers: installing ${missing[*]} ..." >&2
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get update -qq; then
	echo "install-peers: apt-get update failed; trying to install from the existing package lists" >&2
fi
status=0
if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
	# Try one at a time so one unavailable package doesn't block the others.
	for p in "${missing[@]}"; do
		if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$p" >/dev/null; then
			echo "install-peers: FAILED to install $p (the benchmark will report it as not installed)" >&2
			status=1
		fi
	done
fi

declare -A version_cmd=([restic]="restic version" [borg]="borg --version" [git-lfs]="git-lfs version" [aws]="aws --version" [rclone]="rclone version")
for bin in restic borg git-lfs aws rclone; do
	if command -v "$bin" >/dev/null 2>&1; then
		echo "install-peers: $bin: $(${version_cmd[$bin]} 2>&1 | head -1 || true)" >&2
	else
		echo "install-peers: $bin: still missing" >&2
		status=1
	fi
done
exit $status
