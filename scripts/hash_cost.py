"""Milliseconds of one password hash: Django's PBKDF2 default against the console's Argon2id.

    .venv/bin/python scripts/hash_cost.py

Run it on the machine that will serve logins: every login attempt, right or wrong, pays one hash.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SECRET_KEY", "hash-cost-measurement-only")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

import django

django.setup()

from django.contrib.auth.hashers import PBKDF2PasswordHasher  # noqa: E402 - after django.setup(), which these imports need

from dashboard.accounts.hashers import ConsoleArgon2PasswordHasher  # noqa: E402 - after django.setup(), which these imports need


def cost_ms(hasher, runs: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of verifying one password (what a login attempt costs)."""
    encoded = hasher.encode("correct horse battery staple", hasher.salt())
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        hasher.verify("wrong guess", encoded)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


for label, hasher, runs in (
    (f"PBKDF2-SHA256, {PBKDF2PasswordHasher.iterations:,} iterations (Django's default)", PBKDF2PasswordHasher(), 5),
    (
        f"Argon2id, {ConsoleArgon2PasswordHasher.memory_cost // 1024} MiB, t={ConsoleArgon2PasswordHasher.time_cost}, "
        f"p={ConsoleArgon2PasswordHasher.parallelism} (the console's)",
        ConsoleArgon2PasswordHasher(),
        30,
    ),
):
    wall, cpu = cost_ms(hasher, runs)
    print(f"{label}: {wall:.1f} ms per hash ({cpu:.1f} ms CPU), median of {runs}")
