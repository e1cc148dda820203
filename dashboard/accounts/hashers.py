"""Password hashing: Argon2id at parameters chosen for a login page that must survive a flood.

Django's PBKDF2 default (1.5 million SHA-256 rounds) costs well over half a second of CPU per login
attempt, and a GPU still cracks it cheaply because it needs no memory. Argon2id with 19 MiB, two passes and one lane
(one of OWASP's recommended Argon2id configurations) costs a few tens of milliseconds of one core but
makes every guess fill and re-read 19 MiB, which is what slows GPU and ASIC cracking. `scripts/hash_cost.py`
measures both on this machine (README "Production").

The parameters are stored in each hash; changing them here re-hashes each password at its next login
(Argon2PasswordHasher.must_update), as does any PBKDF2 hash once this hasher is first in PASSWORD_HASHERS.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class ConsoleArgon2PasswordHasher(Argon2PasswordHasher):
    # Same algorithm name ("argon2") as Django's: hashes stay readable by the stock hasher too.
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
