#!/usr/bin/env bash
# Every chat-template case in ../shared/templates/cases/ through `umi template`:
# the output must equal "expected" byte for byte, or, for cases that expect an
# error, umi must exit 1 with a message (the exact one for TemplateError).
# usage: test_templates.sh UMI SRC_DIR SHARED_DIR
set -u
umi=$1 shared=$3
exec /usr/bin/python3 - "$umi" "$shared" <<'PY'
import json, os, subprocess, sys
umi, shared = sys.argv[1], sys.argv[2]
cases = sorted(os.listdir(f"{shared}/templates/cases"))
passed = failed = 0
for name in cases:
    path = f"{shared}/templates/cases/{name}"
    case = json.load(open(path, encoding="utf-8"))
    r = subprocess.run([umi, "template", "--template", f"{shared}/templates/jinja/{case['template']}",
                        "--input", path], capture_output=True)
    if "expected" in case:
        ok = r.returncode == 0 and r.stdout == case["expected"].encode("utf-8")
        why = f"exit {r.returncode}: {r.stderr.decode(errors='replace').strip()[:200]}"
    else:
        ok = r.returncode == 1 and r.stdout == b"" and r.stderr.startswith(b"umi")
        if ok and case.get("error_type") == "TemplateError":
            ok = case["error"].encode("utf-8") in r.stderr
        why = f"exit {r.returncode}, stderr {r.stderr[:200]!r}, want error {case['error'][:100]!r}"
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}: {why}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or not passed else 0)
PY
