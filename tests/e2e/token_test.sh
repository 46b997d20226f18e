#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2154  # functions are run through check(); $failed is tap.sh's
# token_test.sh TOP BUILD_DIR: auth.token as users run it, with a real bearer-token round trip.
# The test issuer (token_issuer_server: tests/fixtures/token_issuer, ES256 with an x5c chain
# to the test CA) runs behind portico-proxy's /auth/token route; portico-registry has auth.token
# with autoredirect, so its challenge sends podman to https://localhost:PORT/auth/token, the
# proxy itself. podman follows the realm, gets a token and pushes; skopeo pulls back; a push
# outside the granted scope fails. Output is TAP.
set -uo pipefail

top=$(cd "${1:?usage: token_test.sh TOP BUILD_DIR}" && pwd)
build=$(cd "${2:?usage: token_test.sh TOP BUILD_DIR}" && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=tests/e2e/tap.sh
source "$top/tests/e2e/tap.sh"

if ! command -v podman >/dev/null || ! command -v skopeo >/dev/null; then
  skip "bearer tokens through the proxy" "podman or skopeo missing"
  finish
fi

# start LOG BINARY ARGS...: runs it in the background, waits (30 s) for its "ready" line.
start() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do
    grep -q ready "$log" && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$log"; return 1; }
    sleep 0.1
  done
  cat "$log"
  return 1
}
port_of() { sed -n 's|.*listening on https\?://[^ ]*:\([0-9]*\) .*|\1|p' "$1" | head -1; }

start_stack() {
  start "$work/issuer.log" "$build/tests/e2e/token_issuer_server" portico-e2e-issuer \
    portico-e2e token/app=pull,push token/readonly=pull || return 1
  issuer_port=$(port_of "$work/issuer.log")
  ca=$(sed -n 's/^ca: //p' "$work/issuer.log")
  cert=$(sed -n 's/^cert: //p' "$work/issuer.log")
  key=$(sed -n 's/^key: //p' "$work/issuer.log")
  cat >"$work/registry.yml" <<YAML
version: 0.1
storage:
  filesystem: {rootdirectory: $work/root}
http:
  addr: 127.0.0.1:0
auth:
  token:
    realm: unused-with-autoredirect
    service: portico-e2e
    issuer: portico-e2e-issuer
    rootcertbundle: $ca
    autoredirect: true
    autoredirectpath: /auth/token
YAML
  start "$work/registry.log" "$build/backend/portico-registry" serve "$work/registry.yml" ||
    return 1
  registry_port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/registry.log" | head -1)
  cat >"$work/proxy.yml" <<YAML
listen:
  - address: "127.0.0.1:0"
    tls:
      certificates:
        - {certificate: "$cert", key: "$key"}
upstreams:
  v2: {servers: ["127.0.0.1:$registry_port"]}
  token: {servers: ["127.0.0.1:$issuer_port"]}
routes:
  - {name: token, match: {path_prefix: /auth/token}, forward: token}
  - {name: v2, match: {path_prefix: /v2/}, forward: v2}
admin: {address: "127.0.0.1:0"}
access_log: {path: "off"}
YAML
  start "$work/proxy.log" "$build/proxy/portico-proxy" --config "$work/proxy.yml" || return 1
  port=$(port_of "$work/proxy.log")
  mkdir -p "$work/trust" && cp "$ca" "$work/trust/ca.crt"
  [ -n "$port" ] && [ -n "$registry_port" ] && [ -n "$issuer_port" ]
}

pm() {
  podman --root "$work/podman/root" --runroot "$work/podman/run" --tmpdir "$work/podman/tmp" \
    --network-config-dir "$work/podman/net" --volumepath "$work/podman/volumes" \
    --storage-driver vfs --cgroup-manager cgroupfs --events-backend file "$@"
}
export REGISTRY_AUTH_FILE=$work/auth.json  # no credentials: the issuer serves anyone
echo '{}' >"$REGISTRY_AUTH_FILE"

challenge() {
  curl -sS --max-time 30 --cacert "$work/trust/ca.crt" -D "$work/headers" -o /dev/null \
    "https://localhost:$port/v2/" || return 1
  cat "$work/headers"
  grep -q '^HTTP/1.1 401' "$work/headers" &&
    grep -qi "^www-authenticate: Bearer realm=\"https://localhost:$port/auth/token\",service=\"portico-e2e\"" "$work/headers"
}

podman_push() {
  mkdir -p "$work/ctx" || return 1
  head -c 100000 /dev/urandom >"$work/ctx/a.bin"
  printf 'FROM scratch\nCOPY a.bin /a.bin\n' >"$work/ctx/Containerfile"
  pm build -q -t localhost/token/app:local "$work/ctx" || return 1
  # Without a token every push is 401: success means podman fetched one from the realm.
  pm push --cert-dir "$work/trust" localhost/token/app:local "localhost:$port/token/app:1"
}

skopeo_pull() {
  skopeo copy --src-cert-dir "$work/trust" "docker://localhost:$port/token/app:1" \
    "dir:$work/pulled" && [ -s "$work/pulled/manifest.json" ]
}

push_outside_scope() {
  local out
  out=$(pm push --cert-dir "$work/trust" localhost/token/app:local \
    "localhost:$port/token/readonly:1" 2>&1) && return 1
  echo "$out"
  echo "$out" | grep -qi 'unauthorized\|denied\|insufficient'
}

check "issuer, registry (auth.token, autoredirect) and TLS proxy start" start_stack
[ "$failed" -eq 0 ] || finish
check "/v2/ through the proxy answers 401 with the Bearer challenge naming the proxy" challenge
check "podman follows the realm through the proxy, gets a token and pushes" podman_push
check "skopeo pulls the image back with a token" skopeo_pull
check "a push with a pull-only token (insufficient_scope) fails" push_outside_scope
finish
