#!/usr/bin/env bash
# healthcheck.sh HOST:PORT PATH: exits 0 when GET PATH over plain HTTP answers 2xx or 401.
# Needs only bash (/dev/tcp), so the runtime image carries no curl. Used by compose healthchecks.
set -euo pipefail
target=${1:?usage: healthcheck.sh HOST:PORT PATH}
path=${2:-/}
exec 3<>"/dev/tcp/${target%:*}/${target##*:}"
printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$target" >&3
IFS= read -r -t 5 status <&3
exec 3>&-
[[ $status =~ ^HTTP/1\.[01]\ (2[0-9][0-9]|401) ]]
