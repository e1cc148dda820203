"""The one place that knows role names (docs/architecture.md §4). A role is an auth Group with permissions.

    admin    view, details (hostname, username, port, tags), edit and actions, audit
    viewer   capacity and status only
    auditor  view and the audit log and its export; no edit, no details

What auditors see, decided (issue 9): the card hides hostname, SSH user, port and tags from them, but the audit
trail shows them the before and after values of those fields. That is deliberate: auditing a change ("who
pointed this storage at another host?") needs the values. An operator who prefers them hidden sets
AUDIT_MASK_CONNECTION_VALUES=1, and the audit log, the storage pages' history and the exports then say only
that such a field changed, for every role (dashboard/audit/labels.py). The SSH password is never recorded.
"""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AnonymousUser, Group, Permission, PermissionsMixin
from django.utils.translation import gettext_lazy as _


class Role(StrEnum):
    ADMIN = "admin"
    VIEWER = "viewer"
    AUDITOR = "auditor"


# How a role is called on every page (the header's badge, the audit log, its exports).
ROLE_LABELS = {
    Role.ADMIN: _("Administrator"),
    Role.AUDITOR: _("Auditor"),
    Role.VIEWER: _("Viewer"),
}


APP = "accounts"
VIEW_STORAGE = f"{APP}.view_storage"
VIEW_STORAGE_DETAILS = f"{APP}.view_storage_details"
CHANGE_STORAGE = f"{APP}.change_storage"
VIEW_AUDIT = f"{APP}.view_audit"

ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.ADMIN: (VIEW_STORAGE, VIEW_STORAGE_DETAILS, CHANGE_STORAGE, VIEW_AUDIT),
    Role.VIEWER: (VIEW_STORAGE,),
    Role.AUDITOR: (VIEW_STORAGE, VIEW_AUDIT),
}


def sync_role_groups(**kwargs) -> None:
    """Create or correct one Group per role (run after every migrate)."""
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        codenames = [p.split(".", 1)[1] for p in perms]
        wanted = Permission.objects.filter(content_type__app_label=APP, codename__in=codenames)
        if wanted.count() == len(codenames):  # permissions exist once the accounts migration ran
            group.permissions.set(wanted)


def assign_role(user: PermissionsMixin, role: Role) -> None:
    """Give the user exactly this role (one role per user keeps the audit trail's role unambiguous)."""
    sync_role_groups()
    user.groups.set([Group.objects.get(name=role.value)])
    for cached in ("_console_groups", "_perm_cache", "_user_perm_cache", "_group_perm_cache"):  # backends.py
        user.__dict__.pop(cached, None)


def role_of(user: PermissionsMixin | AnonymousUser) -> Role | None:
    if not getattr(user, "is_authenticated", False):
        return None
    from .backends import load_roles  # the same one query as the permissions (backends.py)

    names = load_roles(user)
    for role in (Role.ADMIN, Role.AUDITOR, Role.VIEWER):  # the strongest first
        if role.value in names:
            return role
    return None
