"""`manage.py ensure_demo_users`: the demo users of `make run`, one per role, with fresh passwords.

Every run generates new passwords and prints them once: nothing secret is committed or reused.
"""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from dashboard.accounts.roles import Role, assign_role

DEMO_USERS = ((Role.ADMIN.value, Role.ADMIN), (Role.VIEWER.value, Role.VIEWER), (Role.AUDITOR.value, Role.AUDITOR))


class Command(BaseCommand):
    help = "Create or update the demo users admin, viewer and auditor with freshly generated passwords."

    def handle(self, *args, **options):
        user_model = get_user_model()
        rows = []
        with transaction.atomic():
            for username, role in DEMO_USERS:
                user, _ = user_model.objects.get_or_create(username=username)
                password = secrets.token_urlsafe(12)
                user.set_password(password)
                user.is_active = True
                user.save()
                assign_role(user, role)
                rows.append((username, role.value, password))

        self.stdout.write("Demo users (passwords are new on every run):")
        for username, role, password in rows:
            self.stdout.write(f"  {username:<8}  role {role:<8}  password {password}")
