#!/usr/bin/env bash
# bench_smoke_test.sh TOP: runs bench/bench.py --smoke --rounds 2 (tiny sizes, one second per load,
# two rounds so the alternating order and the median are exercised) with
# this build's binaries ($PORTICO_REGISTRY_BIN, $PORTICO_PROXY_BIN) against distribution 2.8
# and nginx, writing the results to a temporary file, then checks that the run completed and
# that every section of the results is there with numeric values. Keeps bench/ from rotting;
# the figures themselves are not checked (no timing asserts). Output is TAP.
set -uo pipefail

top=$(cd "${1:?usage: bench_smoke_test.sh TOP}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for tool in wrk ab nginx docker-registry skopeo curl openssl python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "1..0 # SKIP $tool is not installed (bench/run installs it)"
    exit 0
  fi
done

echo "1..2"
echo "# bench.py --smoke"
if python3 "$top/bench/bench.py" --smoke --rounds 2 --registry-bin "${PORTICO_REGISTRY_BIN:?}" \
  --proxy-bin "${PORTICO_PROXY_BIN:?}" --out "$work/RESULTS.md" >"$work/out" 2>&1; then
  echo "ok 1 - bench.py --smoke completed"
else
  echo "not ok 1 - bench.py --smoke completed"
  sed 's/^/#> /' "$work/out"
fi

echo "# results file has every section with numeric values"
if python3 - "$work/RESULTS.md" >"$work/check" 2>&1 <<'PY'
import re, sys
text = open(sys.argv[1]).read()
sections = {m.group(1): m.start() for m in re.finditer(r"^## (.+)$", text, re.M)}
def body(prefix):
    names = [n for n in sections if n.startswith(prefix)]
    assert names, f"section '{prefix}' missing"
    start = sections[names[0]]
    after = [p for p in sections.values() if p > start]
    return text[start:min(after) if after else len(text)]
num = r"-?[\d,]+(?:\.\d+)?"
limits = body("Physical limits")
for key in ("sha256_MBps", "disk_write_fsync_MBps", "loopback_tcp_MBps"):
    assert re.search(rf"^- {key}: {num}$", limits, re.M), f"limit {key} not numeric"
want = {
    "registry:": ["ping", "manifest_by_tag", "blob_head", "blob_get_1MiB", "catalog_all",
                  "tags_list_all", "blob_push_big", "blob_pull_big", "push_big_image",
                  "pull_big_image", "push_2_small_images", "pull_2_small_images", "peak RSS"],
    "proxy:": [f"{w}_{s}" for w in ("ping", "manifest_by_tag", "blob_head", "blob_get_1MiB")
               for s in ("http", "https")]
              + ["tls_handshakes", "blob_push_big_https", "blob_pull_big_https", "peak RSS"],
}
for prefix, workloads in want.items():
    table = body(prefix)
    for w in workloads:
        rows = re.findall(rf"^\| {re.escape(w)} \| [^|]+ \| ([^|]+) \| ([^|]+) \|", table, re.M)
        assert rows, f"{prefix} {w}: no row"
        for a, b in rows:
            assert re.fullmatch(num, a.strip()) and re.fullmatch(num, b.strip()), \
                f"{prefix} {w}: not numeric: {a!r} {b!r}"
        if w != "peak RSS" and not w.endswith("_first") and not w.endswith("_all") \
                and "small_images" not in w and w != "push_big_image":
            # rate rows of workloads run in rounds: one ratio per round (two rounds)
            per_round = re.findall(rf"^\| {re.escape(w)} \| (?:rps|MBps) \|(?: [^|]+ \|){{3}} ([^|]*) \|",
                                   table, re.M)
            assert per_round and len(per_round[0].split()) == 2, \
                f"{prefix} {w}: want 2 ratios per round, got {per_round!r}"
targets = body("Targets")
assert len(re.findall(r"^\| portico", targets, re.M)) >= 10, "targets table incomplete"
print("every section present and numeric")
PY
then
  echo "ok 2 - results file has every section with numeric values"
else
  echo "not ok 2 - results file has every section with numeric values"
  sed 's/^/#> /' "$work/check"
fi
