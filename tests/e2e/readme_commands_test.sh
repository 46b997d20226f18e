#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions are run through check()
# readme_commands_test.sh TOP BUILD_DIR: every `check-config` command README.md shows, run
# exactly as written from the repository root of a checkout (with BUILD_DIR's portico-proxy
# and portico-registry first on PATH): each must say "configuration OK" and exit 0. A fresh
# checkout has no deployment certificates: conf/proxy.yml names conf/certs/ (relative to its
# folder), the example that makes the README's command load real certificate files.
# Output is TAP: one "# name" line and one ok/not ok per check.
set -uo pipefail

top=$(cd "${1:?usage: readme_commands_test.sh TOP BUILD_DIR}" && pwd)
build=$(cd "${2:?usage: readme_commands_test.sh TOP BUILD_DIR}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=tests/e2e/tap.sh
source "$top/tests/e2e/tap.sh"

mkdir -p "$work/bin"
ln -s "$build/proxy/portico-proxy" "$work/bin/portico-proxy"
ln -s "$build/backend/portico-registry" "$work/bin/portico-registry"

mapfile -t commands < <(grep -o 'portico-[a-z]* check-config [^`]*' "$top/README.md" | sort -u)

found_both() {
  printf '%s\n' "${commands[@]}"
  printf '%s\n' "${commands[@]}" | grep -q '^portico-proxy check-config' &&
    printf '%s\n' "${commands[@]}" | grep -q '^portico-registry check-config'
}
check "README.md shows check-config commands for both programs" found_both

run_as_written() {
  local output
  output=$(cd "$top" && PATH="$work/bin:$PATH" bash -c "$1" 2>&1) || { echo "$output"; return 1; }
  echo "$output"
  grep -q '^configuration OK$' <<<"$output"
}
for command in "${commands[@]}"; do
  check "\`$command\` from the repository root says configuration OK" run_as_written "$command"
done
finish
