# shellcheck shell=bash
# shellcheck disable=SC2154,SC2034  # $top, $build, $state come from the test; it reads $admin etc.
# `./run up` for the shell e2e tests: source it after tap.sh with $top (the source tree), $build
# (a build directory with both binaries), $work (a temp dir) and $state (the state folder to
# use) set. It installs the test's EXIT trap: stop what still runs (stop_up is a no-op when
# nothing does) and remove $work.
# up_cmd is what starts Portico: `./run up` unless the test sets it (compose/portico-up.sh is
# what `./run up` execs after building).
up_pid=
server_pids=
[ -n "${up_cmd+x}" ] || up_cmd=("$top/run" up)

# start_up LOG: runs up_cmd in the background on free loopback ports with the documented
# settings (PORTICO_BUILD_DIR, PORTICO_PORT=0, PORTICO_STATE_DIR; every other listener on port 0
# too, so that tests running at the same time never meet on a port); waits (120 s) for its
# "Portico is up" line and sets $port, $admin (the proxy's admin listener), $registry (the
# registry's listener), $registry_debug (its debug listener) and $server_pids (the registry's
# and the proxy's).
start_up() {
  local log=$1
  port='' admin='' registry='' registry_debug='' server_pids=''
  PORTICO_STATE_DIR=$state PORTICO_BUILD_DIR=$build PORTICO_PORT=0 PORTICO_BIND=127.0.0.1 \
    PORTICO_REGISTRY_ADDR=127.0.0.1:0 PORTICO_REGISTRY_DEBUG_ADDR=127.0.0.1:0 \
    PORTICO_ADMIN_ADDR=127.0.0.1:0 \
    "${up_cmd[@]}" >"$log" 2>&1 &
  up_pid=$!
  for _ in $(seq 1200); do
    if grep -q '^Portico is up: ' "$log"; then
      port=$(sed -n 's|^Portico is up: https://localhost:\([0-9]*\).*|\1|p' "$log")
      admin=$(sed -n 's|^Portico is up: .*[(,] admin: http://\([^,)]*\).*|\1|p' "$log")
      registry=$(sed -n 's|^Portico is up: .*(registry: http://\([^,)]*\).*|\1|p' "$log")
      registry_debug=$(sed -n 's|^Portico is up: .*, registry debug: http://\([^,)]*\).*|\1|p' "$log")
      server_pids=$(pgrep -P "$up_pid" -f 'portico-(registry|proxy)' | tr '\n' ' ')
      [ -n "$port" ] && [ -n "$server_pids" ] && return 0
    fi
    kill -0 "$up_pid" 2>/dev/null || { cat "$log"; return 1; }
    sleep 0.1
  done
  cat "$log"
  return 1
}

# stop_up: SIGTERM to up_cmd; it must exit 0 and leave no server behind.
stop_up() {
  [ -n "$up_pid" ] || return 0
  kill -TERM "$up_pid" || return 1
  local status=0
  wait "$up_pid" || status=$?
  up_pid=
  [ "$status" -eq 0 ] || { echo "portico-up.sh exited with $status"; return 1; }
  local pid
  for pid in $server_pids; do
    ! kill -0 "$pid" 2>/dev/null || { echo "server $pid is still running"; return 1; }
  done
  ! curl -s --max-time 5 --cacert "$state/certs/ca.crt" "https://localhost:$port/v2/" >/dev/null ||
    { echo "the port still answers"; return 1; }
}

portico_up_cleanup() {
  stop_up >/dev/null 2>&1
  rm -rf "$work"
}
trap portico_up_cleanup EXIT
