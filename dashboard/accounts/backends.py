"""Django's ModelBackend, with a user's roles and permissions read in ONE query per request (issue 14).

Every page asks for the role (the header's badge) and several permissions (the view's check, the template's
``can``); ModelBackend reads user permissions and group permissions in two queries and role_of reads the
groups in a third. Here one UNION query returns the user's groups with their permissions and the user's own
permissions; the result is kept on the user object, which lives for one request, so a role change applies
from the next request on, as before.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db.models import CharField, Value

_LOADED = "_console_groups"


def load_roles(user: Any) -> frozenset[str]:
    """The user's group names; fills ModelBackend's permission caches from the same query."""
    names = getattr(user, _LOADED, None)
    if names is not None:
        return names
    # order_by(): Permission's default ordering is not allowed inside a UNION.
    by_group = (
        Group.objects.filter(user=user)
        .order_by()
        .values_list("name", "permissions__content_type__app_label", "permissions__codename")
    )
    own = (
        Permission.objects.filter(user=user)
        .order_by()
        .values_list(Value("", output_field=CharField()), "content_type__app_label", "codename")
    )
    group_names: set[str] = set()
    group_perms: set[str] = set()
    user_perms: set[str] = set()
    for group, app_label, codename in by_group.union(own, all=True):
        if group:
            group_names.add(group)
        if app_label and codename:
            (group_perms if group else user_perms).add(f"{app_label}.{codename}")
    names = frozenset(group_names)
    setattr(user, _LOADED, names)
    if user.is_active and not user.is_superuser:  # a superuser's permissions are all of them: ModelBackend's way
        user._user_perm_cache = user_perms
        user._group_perm_cache = group_perms
        user._perm_cache = user_perms | group_perms
    return names


class RoleBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if user_obj.is_active and not user_obj.is_anonymous and obj is None and not user_obj.is_superuser:
            if not hasattr(user_obj, "_perm_cache"):
                load_roles(user_obj)
        return super().get_all_permissions(user_obj, obj)
