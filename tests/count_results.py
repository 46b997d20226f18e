#!/usr/bin/env python3
"""Counts passed and failed test cases in a meson testlog.json; prints "PASSED FAILED".

Catch2 binaries run with `-r tap`: their TAP output names each TEST_CASE in a "# name" line
before its assertions, so a test case counts once, failed if any of its assertions is
"not ok". A binary that failed outside any test case (crash, sanitizer report, timeout) adds
one failure. Script tests (no TAP) count once each, by their result.
Every failure is named on stderr ("failed [LABEL]: TEST / CASE", LABEL the optional second
argument: the configuration), so that the summary can list them.
"""
import json
import sys

OK = ("OK", "SKIP", "EXPECTEDFAIL")
label = f" [{sys.argv[2]}]" if len(sys.argv) > 2 else ""
passed = failed = 0
with open(sys.argv[1], encoding="utf-8") as log:
    for line in log:
        if not line.strip():
            continue
        entry = json.loads(line)
        cases = {}
        current = None
        for out in entry.get("stdout", "").splitlines():
            if out.startswith("# "):
                current = out[2:]
                cases.setdefault(current, True)
            elif out.startswith("not ok") and current is not None:
                cases[current] = False
        if cases:
            good = sum(1 for ok in cases.values() if ok)
            bad = len(cases) - good
            for name, ok in cases.items():
                if not ok:
                    print(f"failed{label}: {entry['name']} / {name}", file=sys.stderr)
            if bad == 0 and entry.get("result") not in OK:
                bad = 1
                print(f"failed{label} outside a test case: {entry['name']}", file=sys.stderr)
            passed += good
            failed += bad
        elif entry.get("result") in OK:
            passed += 1
        else:
            failed += 1
            print(f"failed{label}: {entry['name']}", file=sys.stderr)
print(passed, failed)
