"""`manage.py adduser USERNAME --role ROLE --password-stdin` (docs/architecture.md §4): create or update a user.

The password comes from standard input only, never from the command line, where it would land in
shell history and the process list.
"""

import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from dashboard.accounts.roles import Role, assign_role


class Command(BaseCommand):
    help = "Create or update a console user with one role; the password is read from standard input."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from the first line of standard input (required for a new user).",
        )

    def handle(self, *args, username: str, role: str, password_stdin: bool, **options):
        user_model = get_user_model()
        username = username.strip()
        if not username:
            raise CommandError("The username must not be blank.")
        password = self._read_password() if password_stdin else None

        with transaction.atomic():
            existing = user_model.objects.filter(username=username).first()
            created = existing is None
            if existing is None:
                if password is None:
                    raise CommandError("A new user needs a password: pass --password-stdin and pipe it in.")
                user = user_model(username=username)
            else:
                user = existing
            if password is not None:
                try:
                    validate_password(password, user)
                except ValidationError as error:
                    raise CommandError("Password rejected: " + " ".join(error.messages)) from None
                user.set_password(password)
            user.is_active = True
            user.save()
            assign_role(user, Role(role))

        verb = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} user {username!r} with role {role}."))

    def _read_password(self) -> str:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise CommandError("No password on standard input.")
        return password
