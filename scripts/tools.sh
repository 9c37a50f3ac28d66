#!/usr/bin/env bash
# Installs the programs make test drives that Go cannot build: tmux (the
# dx ui test in a real terminal) and rclone (a client of dx serve). From Debian's packages when missing and
# apt-get can run; otherwise says what to install, and the test that needs
# it fails.
set -euo pipefail
missing=()
for tool in tmux rclone; do
	command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
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
