#!/bin/sh
# Each man page renders with man -l without a single warning from groff or man.
# Usage: man.sh PAGE...
set -eu
command -v man >/dev/null || { echo "man (man-db) is not installed: scripts/deps.sh"; exit 1; }
fail=0
for page in "$@"; do
	warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	[ -z "$warnings" ] || { echo "$page:"; echo "$warnings"; fail=1; }
	# And it says something: NAME and SYNOPSIS rendered.
	text=$(MANWIDTH=80 man -l "$page" 2>/dev/null)
	printf '%s\n' "$text" | grep -q '^NAME' || { echo "$page: no NAME section"; fail=1; }
	printf '%s\n' "$text" | grep -q '^SYNOPSIS' || { echo "$page: no SYNOPSIS section"; fail=1; }
done
exit $fail
