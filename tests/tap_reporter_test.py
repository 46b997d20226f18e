#!/usr/bin/env python3
"""tap_reporter_test.py SAMPLE: runs SAMPLE (tests/tap_reporter_sample.cc, linked with
tests/catch2_main.cc) with `-r tap "[.tap_sample]"` and checks that every line of its output
is a TAP line meson understands, shorter than meson's 64 KiB line limit (a longer line comes
out as pages of "UNKNOWN" lines), and that the results are right: 1 ok, 2 not ok, plan 1..3.
Output is TAP itself: one "# name" line and one ok/not ok per check."""
import re
import subprocess
import sys

run = subprocess.run([sys.argv[1], "-r", "tap", "[.tap_sample]"], stdout=subprocess.PIPE,
                     stderr=subprocess.STDOUT, check=False)
lines = run.stdout.decode("utf-8", "replace").split("\n")
TAP = re.compile(r"^((not )?ok \d+ - .*|1\.\.\d+( # .*)?|#.*|)$")
checks = []


def check(name, ok, detail=""):
    checks.append((name, ok, detail))


bad = [f"line {i + 1}: {line[:200]}" for i, line in enumerate(lines) if not TAP.match(line)]
check("every line is a TAP line (result, plan, comment or empty)", not bad, "\n".join(bad[:5]))
longest = max(len(line) for line in lines)
check("no line is longer than 4 KiB", longest <= 4096, f"longest line: {longest} characters")
results = [line for line in lines if re.match(r"^(not )?ok \d+ - ", line)]
oks = [line for line in results if line.startswith("ok ")]
check("the passing comparison is one ok", len(oks) == 1, "\n".join(results))
check("the failure and the exception are two not ok, with their place in the source",
      len(results) - len(oks) == 2 and
      all("tap_reporter_sample.cc:" in line for line in results if line.startswith("not ok")),
      "\n".join(line[:300] for line in results))
check("a cut expansion says how long it was",
      any(re.search(r"\.\.\. \(6\d{5} characters\)", line) for line in oks),
      oks[0][:300] if oks else "")
check("the plan is 1..3", "1..3" in lines, "")
check("the sample fails (its failures are real)", run.returncode != 0, f"exit {run.returncode}")

for number, (name, ok, detail) in enumerate(checks, 1):
    print(f"# {name}")
    print(f"{'ok' if ok else 'not ok'} {number} - {name}")
    if not ok:
        for line in detail.splitlines():
            print(f"#> {line}")
print(f"1..{len(checks)}")
sys.exit(0 if all(ok for _, ok, _ in checks) else 1)
