# shellcheck shell=bash
# TAP helpers for the shell e2e tests: source it after setting $work (a temp dir).
# One "# name" line before each result, which tests/count_results.py counts as a test case.
n=0
failed=0

# check NAME CMD...: runs CMD; its output is shown only on failure.
check() {
  local name=$1
  shift
  n=$((n + 1))
  echo "# $name"
  if "$@" >"$work/out" 2>&1; then
    echo "ok $n - $name"
  else
    failed=$((failed + 1))
    echo "not ok $n - $name"
    sed 's/^/#> /' "$work/out"
  fi
}

# skip NAME REASON: a check that cannot run here.
skip() {
  n=$((n + 1))
  echo "# $1"
  echo "ok $n - $1 # SKIP $2"
}

# finish: prints the plan and exits non-zero if any check failed.
finish() {
  echo "1..$n"
  [ "$failed" -eq 0 ]
  exit $?
}
