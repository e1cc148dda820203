"""dashboard.zstack knows no Django: it imports, builds errors and says what they mean with no settings."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import os, sys
os.environ.pop("DJANGO_SETTINGS_MODULE", None)
from dashboard.zstack import client, connection, errors, inventory, jobs, query, transport
error = errors.ZStackUnavailable("connection refused")
print(error.user_message)
print(errors.ZStackError.from_error_json({"code": "SYS.1007", "details": "port out of range"}).user_message)
print(sorted(name for name in sys.modules if name == "django" or name.startswith("django.")))
"""


def test_the_client_reads_an_errors_message_without_django_settings():
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    unavailable, invalid, django_modules = done.stdout.splitlines()
    assert unavailable == "ZStack could not be reached. Check that the management node is running."
    assert invalid == "port out of range"
    assert django_modules == "[]"  # not merely unconfigured: never imported
