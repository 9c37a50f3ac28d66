#!/usr/bin/env bash
# Installs the programs make test drives that Go cannot build: tmux (the
# dx ui test in a real terminal), and rclone and pandas for Debian's python3
# (clients of dx serve). From Debian's packages when missing and
# apt-get can run; otherwise says what to install, and the test that needs
# it fails.
set -euo pipefail
missing=()
for tool in tmux rclone; do
	command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
# pandas for any python3 on PATH (Debian's, when another python3 comes
# first: the test looks through PATH).
has_pandas=""
IFS=: read -ra path_dirs <<<"$PATH"
for d in "${path_dirs[@]}"; do
	[ -x "$d/python3" ] && "$d/python3" -c "import pandas" >/dev/null 2>&1 && { has_pandas=1; break; }
done
[ -n "$has_pandas" ] || missing+=(python3-pandas)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo -n"
if command -v apt-get >/dev/null 2>&1; then
	echo "installing ${missing[*]} (apt-get)" >&2
	if { $sudo apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
		{ $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q "${missing[@]}" >/dev/null; }; }; then
		exit 0
	fi
fi
echo "make test needs ${missing[*]}: install them (apt-get install ${missing[*]}); the tests that drive them fail without them" >&2
exit 0
