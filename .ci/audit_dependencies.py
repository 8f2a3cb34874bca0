"""pip-audit on the pinned requirements, with a verdict that cannot be mistaken.

pip-audit prints "No known vulnerabilities found" even when it could audit nothing (its
vulnerability service unreachable: every package is then "skipped"). This reads its JSON and
says which of three things happened: vulnerabilities (fail), audited and clean (pass), or not
audited (a loud NOT AUDITED line; a failure when PIP_AUDIT_REQUIRED=1).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


def main(requirements: list[str]) -> int:
    command = [sys.executable, "-m", "pip_audit", "--no-deps", "--disable-pip", "--progress-spinner", "off"]
    command += ["--format", "json"]
    for path in requirements:
        command += ["-r", path]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    try:
        report = json.loads(result.stdout)
    except ValueError:
        print(result.stderr[-2000:], file=sys.stderr)
        print("pip-audit: NOT AUDITED: pip-audit gave no report (see its error above)")
        return 1 if os.environ.get("PIP_AUDIT_REQUIRED") == "1" else 0
    dependencies = report["dependencies"]
    skipped = [dependency for dependency in dependencies if dependency.get("skip_reason")]
    audited = [dependency for dependency in dependencies if not dependency.get("skip_reason")]
    vulnerable = [dependency for dependency in audited if dependency.get("vulns")]
    for dependency in vulnerable:
        for vulnerability in dependency["vulns"]:
            fixes = ", ".join(vulnerability.get("fix_versions") or []) or "no fix yet"
            print(f"VULNERABLE {dependency['name']} {dependency['version']}: {vulnerability['id']} (fixed in {fixes})")
    print(f"pip-audit: {len(audited)} packages audited, {len(skipped)} not audited, {len(vulnerable)} vulnerable")
    if vulnerable:
        return 1
    if skipped:
        reasons = sorted({dependency["skip_reason"].split(":")[0] for dependency in skipped})
        print(f"pip-audit: NOT AUDITED: {len(skipped)} of {len(dependencies)} packages; reason: {'; '.join(reasons)}")
        print("pip-audit: the vulnerability service (PyPI's JSON API or OSV) is not reachable from this machine")
        return 1 if os.environ.get("PIP_AUDIT_REQUIRED") == "1" else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["requirements.txt"]))
