#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2034  # functions are run through check(); $build, $up_cmd are read by portico_up.sh
# auth_test.sh TOP BUILD_DIR: access control as users run it: compose/portico-up.sh (what
# `./run up` execs) on free ports with auth.htpasswd and an auth.policy given through
# REGISTRY_AUTH_* variables, every client call through the TLS proxy trusting the generated CA.
# The proxy passes Authorization and WWW-Authenticate through; podman login refuses a wrong
# password and accepts the right one; podman pushes as a writer; skopeo --creds pulls as a
# pull-only user and that user's push fails with the client's normal "denied" error; no
# credentials get the Basic challenge. Output is TAP.
set -uo pipefail

top=$(cd "${1:?usage: auth_test.sh TOP BUILD_DIR}" && pwd)
build=$(cd "${2:?usage: auth_test.sh TOP BUILD_DIR}" && pwd)
work=$(mktemp -d)
state=$work/state
up_cmd=("$top/compose/portico-up.sh" "$top")

# shellcheck source=tests/e2e/tap.sh
source "$top/tests/e2e/tap.sh"
# shellcheck source=tests/e2e/portico_up.sh
source "$top/tests/e2e/portico_up.sh"  # also: on exit, stop what runs and remove $work

if ! command -v podman >/dev/null || ! command -v skopeo >/dev/null; then
  skip "access control through the proxy" "podman or skopeo missing"
  finish
fi

# Users: writer (pull, push) and reader (pull only); bcrypt cost 5 as htpasswd -B writes.
python3 -W ignore - "$work/htpasswd" <<'PY'
import crypt, sys
with open(sys.argv[1], "w") as f:
    for user, password in (("writer", "writer-pw"), ("reader", "reader-pw")):
        f.write(f"{user}:{crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=32))}\n")
PY
export REGISTRY_AUTH_HTPASSWD_REALM="Portico Registry"
export REGISTRY_AUTH_HTPASSWD_PATH=$work/htpasswd
export REGISTRY_AUTH_POLICY='{rules: [{repositories: ["**"], users: [reader], actions: [pull]}, {repositories: ["**"], users: [writer], actions: [pull, push]}]}'

pm() {
  podman --root "$work/podman/root" --runroot "$work/podman/run" --tmpdir "$work/podman/tmp" \
    --network-config-dir "$work/podman/net" --volumepath "$work/podman/volumes" \
    --storage-driver vfs --cgroup-manager cgroupfs --events-backend file "$@"
}
export REGISTRY_AUTH_FILE=$work/auth.json  # podman login / push and skopeo read it

challenge() {
  curl -sS --max-time 30 --cacert "$state/trust/ca.crt" -D "$work/headers" -o /dev/null \
    "https://localhost:$port/v2/" || return 1
  cat "$work/headers"
  grep -q '^HTTP/1.1 401' "$work/headers" &&
    grep -qi '^www-authenticate: Basic realm="Portico Registry"' "$work/headers" &&
    grep -qi '^docker-distribution-api-version: registry/2.0' "$work/headers"
}

login_wrong() {
  ! pm login --cert-dir "$state/trust" -u writer -p wrong "localhost:$port"
}

login_right() {
  pm login --cert-dir "$state/trust" -u writer -p writer-pw "localhost:$port"
}

push_as_writer() {
  mkdir -p "$work/ctx" || return 1
  head -c 100000 /dev/urandom >"$work/ctx/a.bin"
  printf 'FROM scratch\nCOPY a.bin /a.bin\n' >"$work/ctx/Containerfile"
  pm build -q -t localhost/auth/app:local "$work/ctx" || return 1
  pm push --cert-dir "$state/trust" localhost/auth/app:local "localhost:$port/auth/app:1"
}

pull_as_reader() {
  skopeo copy --src-cert-dir "$state/trust" --src-creds reader:reader-pw \
    "docker://localhost:$port/auth/app:1" "dir:$work/pulled" && [ -s "$work/pulled/manifest.json" ]
}

push_as_reader_denied() {
  local out
  out=$(skopeo copy --dest-cert-dir "$state/trust" --dest-creds reader:reader-pw \
    "dir:$work/pulled" "docker://localhost:$port/auth/other:1" 2>&1) && return 1
  echo "$out"
  echo "$out" | grep -qi 'denied'
}

pull_without_credentials() {
  local out
  out=$(skopeo copy --src-cert-dir "$state/trust" --src-no-creds \
    "docker://localhost:$port/auth/app:1" "dir:$work/anonymous" 2>&1) && return 1
  echo "$out"
  echo "$out" | grep -qi 'unauthorized\|authentication required'
}

check "portico-up.sh starts registry and proxy with htpasswd and a policy" start_up "$work/up.log"
[ "$failed" -eq 0 ] || finish
check "/v2/ through the proxy answers 401 with the Basic challenge" challenge
check "podman login with a wrong password fails" login_wrong
check "podman login with the right password succeeds" login_right
check "podman pushes as the writer" push_as_writer
check "skopeo --src-creds pulls as the pull-only user" pull_as_reader
check "the pull-only user's push fails with 'denied'" push_as_reader_denied
check "a pull without credentials fails with unauthorized" pull_without_credentials
check "portico-up.sh stops cleanly" stop_up
finish
