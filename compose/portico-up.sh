#!/usr/bin/env bash
# portico-up.sh [TOP]: the native start (what `./run up` execs after `./run build`).
# Starts portico-registry and portico-proxy from TOP/build-release with TLS on :5000 and stops
# both on Ctrl-C / SIGTERM. State lives in TOP/.state (git-ignored) and is reused next time:
#   .state/certs/   development CA (ca.crt) + server certificate (domain.crt/.key), make-cert.sh
#   .state/data/    registry storage (distribution's layout)
#   .state/proxy.yml  the proxy config rendered from conf/proxy.yml (render-proxy-config.sh)
#   .state/trust/   ca.crt alone, for clients' --cert-dir
#   .state/logs/    registry.log, proxy.log
# Environment:
#   PORTICO_PORT=5000                public TLS port (0 = any free port; the real one is printed)
#   PORTICO_BIND=0.0.0.0             public bind address
#   PORTICO_REGISTRY_ADDR=127.0.0.1:5001  registry listener (port 0 = any free port)
#   PORTICO_REGISTRY_DEBUG_ADDR=          registry debug listener (/debug/health; port 0 = any);
#                                         default: http.debug.addr of conf/registry.yml
#   PORTICO_ADMIN_ADDR=127.0.0.1:5002     proxy admin listener (/health, /metrics; port 0 = any)
#   PORTICO_CERT_NAMES=              extra names/addresses for the generated certificate
#   PORTICO_STATE_DIR=TOP/.state     PORTICO_BUILD_DIR=TOP/build-release
set -euo pipefail

top=$(cd "${1:-$(dirname "$(readlink -f "$0")")/..}" && pwd)
here=$top/compose
state=${PORTICO_STATE_DIR:-$top/.state}
build=${PORTICO_BUILD_DIR:-$top/build-release}
port=${PORTICO_PORT:-5000}
bind=${PORTICO_BIND:-0.0.0.0}
registry_addr=${PORTICO_REGISTRY_ADDR:-127.0.0.1:5001}
admin_addr=${PORTICO_ADMIN_ADDR:-127.0.0.1:5002}
registry_bin=$build/backend/portico-registry
proxy_bin=$build/proxy/portico-proxy

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() {
  printf 'portico-up: %s\n' "$*" >&2
  exit 1
}

for bin in "$registry_bin" "$proxy_bin"; do
  [ -x "$bin" ] || die "$bin is missing: build first (./run build)"
done
for file in "$top/conf/registry.yml" "$top/conf/proxy.yml"; do
  [ -f "$file" ] || die "$file is missing"
done

mkdir -p "$state/certs" "$state/data" "$state/logs"
"$here/make-cert.sh" "$state/certs" >&2
# A folder with only the CA, for the --cert-dir of skopeo/podman (they would take domain.key
# there for a client key).
mkdir -p "$state/trust"
cp "$state/certs/ca.crt" "$state/trust/ca.crt"

registry_pid=
proxy_pid=
tail_pid=

# Stops whatever runs (proxy first, so no request reaches a stopped registry), then waits.
stop_all() {
  trap - INT TERM EXIT
  local pid
  for pid in $proxy_pid $registry_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $proxy_pid $registry_pid; do
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$tail_pid" ]; then kill "$tail_pid" 2>/dev/null || true; wait "$tail_pid" 2>/dev/null || true; fi
}
trap 'say "stopping"; stop_all; exit 0' INT TERM
trap stop_all EXIT

# wait_ready NAME PID LOG: waits (up to 60 s) for the ready line of the contract
# ("listening on <url> (<name>)" per listener, then "ready"). LOG must have been emptied before
# the server was started (start_logged): the previous run's "ready" must not count.
wait_ready() {
  local name=$1 pid=$2 log=$3
  for _ in $(seq 600); do
    grep -qw ready "$log" && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$log" >&2
      die "$name exited before it was ready (log above, also in $log)"
    fi
    sleep 0.1
  done
  cat "$log" >&2
  die "$name printed no ready line within 60 s (log: $log)"
}

# listener_url LOG SCHEME [NAME]: the URL of the first "listening on" line with that scheme
# (and name); empty if there is none (the caller says what is missing: under `set -e` a failing
# substitution would end this script without a word).
listener_url() {
  local pattern="listening on $2://[^ ]*"
  [ -n "${3:-}" ] && pattern="$pattern ($3)"
  { grep -m 1 -o "$pattern" "$1" || true; } | sed -e 's/^listening on //' -e 's/ (.*//'
}

# start_logged LOG CMD...: empties LOG, then starts CMD in the background writing to it (sets
# $!). LOG is emptied here, before the fork, and not only by the child's redirection: the
# state folder keeps the previous run's logs, and until the child has opened its log, a
# wait_ready would find the previous run's "ready" line and its listeners (the second start
# then read a stale or an empty log and stopped).
start_logged() {
  local log=$1
  shift
  : >"$log"
  "$@" >>"$log" 2>&1 &
}

say "starting portico-registry (data in $state/data)"
registry_env=(REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY="$state/data" REGISTRY_HTTP_ADDR="$registry_addr")
[ -z "${PORTICO_REGISTRY_DEBUG_ADDR:-}" ] ||
  registry_env+=(REGISTRY_HTTP_DEBUG_ADDR="$PORTICO_REGISTRY_DEBUG_ADDR")
start_logged "$state/logs/registry.log" env "${registry_env[@]}" "$registry_bin" serve "$top/conf/registry.yml"
registry_pid=$!
wait_ready portico-registry "$registry_pid" "$state/logs/registry.log"
registry_url=$(listener_url "$state/logs/registry.log" http http)
[ -n "$registry_url" ] || die "portico-registry announced no listener (log: $state/logs/registry.log)"
registry_debug_url=$(listener_url "$state/logs/registry.log" http debug)
registry_upstream=${registry_url#*://}

say "starting portico-proxy on $bind:$port"
PORTICO_LISTEN=$bind:$port PORTICO_CERT_DIR=$state/certs PORTICO_REGISTRY_UPSTREAM=$registry_upstream \
  PORTICO_ADMIN_ADDR=$admin_addr "$here/render-proxy-config.sh" "$top/conf/proxy.yml" "$state/proxy.yml"
"$proxy_bin" check-config "$state/proxy.yml" >&2 || die "the rendered $state/proxy.yml is invalid (from conf/proxy.yml)"
start_logged "$state/logs/proxy.log" "$proxy_bin" --config "$state/proxy.yml"
proxy_pid=$!
wait_ready portico-proxy "$proxy_pid" "$state/logs/proxy.log"
proxy_url=$(listener_url "$state/logs/proxy.log" https)
[ -n "$proxy_url" ] || die "portico-proxy announced no https listener (log: $state/logs/proxy.log)"
admin_url=$(listener_url "$state/logs/proxy.log" http admin)
public_port=${proxy_url##*:}
public_port=${public_port%%/*}
ca=$state/certs/ca.crt

cat <<EOF

Portico is up: https://localhost:$public_port  (registry: $registry_url${admin_url:+, admin: $admin_url}${registry_debug_url:+, registry debug: $registry_debug_url})
  TLS certificate: $state/certs/domain.crt    CA to trust: $ca
  data: $state/data    logs: $state/logs/    stop: Ctrl-C

  skopeo:  skopeo copy --dest-cert-dir $state/trust docker://docker.io/library/alpine:latest docker://localhost:$public_port/alpine:latest
           (or --dest-tls-verify=false / --src-tls-verify=false instead of trusting the CA)
  podman:  podman push --cert-dir $state/trust alpine localhost:$public_port/alpine   (or --tls-verify=false)
           podman pull --cert-dir $state/trust localhost:$public_port/alpine
  docker:  sudo mkdir -p /etc/docker/certs.d/localhost:$public_port && sudo cp $ca /etc/docker/certs.d/localhost:$public_port/ca.crt
           docker tag alpine localhost:$public_port/alpine && docker push localhost:$public_port/alpine
  curl:    curl --cacert $ca https://localhost:$public_port/v2/_catalog

  No login is required (anyone who reaches the port can push). To require one, uncomment auth
  in conf/registry.yml and create users with htpasswd -B; see docs/securing.md.

EOF

# Follow both logs on the terminal until a signal arrives or a server dies.
tail -q -n +1 -F "$state/logs/registry.log" "$state/logs/proxy.log" &
tail_pid=$!
status=0
wait -n "$registry_pid" "$proxy_pid" || status=$?
say "a server exited (status $status); stopping"
stop_all
exit 1
