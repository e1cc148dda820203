"""Known vulnerabilities in the installed dependencies (pip-audit), for .ci/run.

Exit 1 when pip-audit found a vulnerability. When its data cannot be reached (no network, or the
vulnerability service knows none of our packages, as from a machine that reaches only a package
mirror), print one line saying the check was skipped and why, and exit 0: CI does not fail for want of
network, and does not pretend to have checked either.
"""

import json
import subprocess
import sys
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
TIMEOUT = 90  # seconds for the whole run; each HTTP call gets 5


def main() -> int:
    command = [
        str(VENV_BIN / "pip-audit"),
        "--local",
        "--format",
        "json",
        "--progress-spinner",
        "off",
        "--timeout",
        "5",
    ]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        print(f"pip-audit: SKIPPED, its vulnerability service did not answer within {TIMEOUT} s.")
        return 0
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"pip-audit: SKIPPED, it could not reach its vulnerability data ({last[:200]}).")
        return 0
    dependencies = report.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    vulnerable = [d for d in audited if d.get("vulns")]
    if not audited:
        print(
            f"pip-audit: SKIPPED, the vulnerability service knew none of the {len(dependencies)} packages "
            "(no access to its data from this machine)."
        )
        return 0
    for dependency in vulnerable:
        ids = ", ".join(v["id"] for v in dependency["vulns"])
        print(f"pip-audit: {dependency['name']} {dependency['version']}: {ids}")
    skipped = len(dependencies) - len(audited)
    print(f"pip-audit: {len(vulnerable)} vulnerable of {len(audited)} packages audited ({skipped} not found).")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
