#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions are run through check()
# up_endpoints_test.sh TOP BUILD_DIR: `./run up` (PORTICO_BUILD_DIR=BUILD_DIR, every listener on
# a free port) and what each of its listeners answers, ten times in a row: the proxy's public
# TLS port (GET /v2/: 200 registry/2.0), its admin listener (/health: 200 ok; /metrics: the
# Prometheus counters), the registry's listener (GET /v2/: 200) and its debug listener
# (/debug/health: 200 {}). Each answer must come from the program that owns the port: a port
# shared through SO_REUSEPORT with another program would answer some of the ten requests with
# the other program's reply.
# Output is TAP: one "# name" line and one ok/not ok per check.
set -uo pipefail

top=$(cd "${1:?usage: up_endpoints_test.sh TOP BUILD_DIR}" && pwd)
build=$(cd "${2:?usage: up_endpoints_test.sh TOP BUILD_DIR}" && pwd)
work=$(mktemp -d)
state=$work/state

# shellcheck source=tests/e2e/tap.sh
source "$top/tests/e2e/tap.sh"
# shellcheck source=tests/e2e/portico_up.sh
source "$top/tests/e2e/portico_up.sh"  # also: on exit, stop what runs and remove $work

# ten_times URL STATUS BODY_REGEX [CURL_ARGS...]: GET URL ten times; each answers STATUS
# with a body matching BODY_REGEX.
ten_times() {
  local url=$1 status=$2 body=$3
  shift 3
  local i code
  for i in $(seq 10); do
    code=$(curl -sS --max-time 10 -o "$work/body" -w '%{http_code}' "$@" "$url") || return 1
    [ "$code" = "$status" ] || { echo "request $i: $url answered $code"; cat "$work/body"; return 1; }
    grep -Eq "$body" "$work/body" || { echo "request $i: $url body:"; head -c 500 "$work/body"; return 1; }
  done
}

check "./run up starts with every listener on a free port" start_up "$work/up.log"
[ "$failed" -eq 0 ] || finish
announced() {
  if [ -z "$admin" ] || [ -z "$registry" ] || [ -z "$registry_debug" ]; then
    echo "admin='$admin' registry='$registry' registry_debug='$registry_debug'"
    cat "$work/up.log"
    return 1
  fi
}
check "the ready line names the admin, registry and registry debug listeners" announced
check "the public TLS port answers GET /v2/ with 200 (ten times)" \
  ten_times "https://localhost:$port/v2/" 200 '^\{\}$' --cacert "$state/certs/ca.crt"
check "the admin listener answers /health with 200 ok (ten times)" \
  ten_times "http://$admin/health" 200 '^ok'
check "the admin listener answers /metrics with the proxy's counters (ten times)" \
  ten_times "http://$admin/metrics" 200 'portico_'
check "the registry's listener answers GET /v2/ with 200 (ten times)" \
  ten_times "http://$registry/v2/" 200 '^\{\}$'
check "the registry's debug listener answers /debug/health with 200 {} (ten times)" \
  ten_times "http://$registry_debug/debug/health" 200 '^\{\}$'
check "SIGTERM stops it cleanly" stop_up
finish
