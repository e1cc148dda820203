"""The audit key's settings (issue 9): required in production, never the secret key, from the environment or a
file whose later lines are older keys. Each case imports the settings in a fresh interpreter."""

import os
import subprocess
import sys

PRINT_KEYS = "import dashboard.settings as s; print(len(s.AUDIT_SIGNING_KEY), len(s.AUDIT_SIGNING_KEY_FALLBACKS))"


def settings_with(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ZSTACK_", "AUDIT_"))}
    return subprocess.run(
        [sys.executable, "-c", PRINT_KEYS],
        env={**clean, "DJANGO_SECRET_KEY": "s" * 50, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_an_audit_key():
    result = settings_with()
    assert result.returncode != 0 and "Set AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_FILE" in result.stderr


def test_the_secret_key_is_refused_as_the_audit_key():
    result = settings_with(AUDIT_SIGNING_KEY="s" * 50)
    assert result.returncode != 0 and "must not be DJANGO_SECRET_KEY" in result.stderr


def test_a_short_audit_key_is_refused_without_echoing_it():
    result = settings_with(AUDIT_SIGNING_KEY="short-key-123")
    assert result.returncode != 0 and "at least 32 characters" in result.stderr
    assert "short-key-123" not in result.stderr


def test_the_key_file_holds_the_current_key_first_and_older_keys_after(tmp_path):
    key_file = tmp_path / "audit-key"
    key_file.write_text("# rotated 2026-12\n" + "n" * 40 + "\n" + "o" * 40 + "\n")

    result = settings_with(AUDIT_SIGNING_KEY_FILE=str(key_file))

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["40", "1"]


def test_the_environment_gives_fallbacks_comma_separated():
    result = settings_with(AUDIT_SIGNING_KEY="n" * 40, AUDIT_SIGNING_KEY_FALLBACKS=f"{'o' * 40},{'p' * 40}")
    assert result.returncode == 0 and result.stdout.split() == ["40", "2"], result.stderr


def test_the_demo_keeps_a_generated_key_in_var():
    result = settings_with(DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1] == "0"
