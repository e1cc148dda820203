"""Django's ModelBackend, with a user's roles and permissions read in ONE query per request (issue 14), and the
user read every request makes written out as SQL.

Every page asks for the role (the header's badge) and several permissions (the view's check, the template's
``can``); ModelBackend reads user permissions and group permissions in two queries and role_of reads the
groups in a third. Here one UNION query returns the user's groups with their permissions and the user's own
permissions; the result is kept on the user object, which lives for one request, so a role change applies
from the next request on, as before.
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

_LOADED = "_console_groups"


@functools.cache
def _roles_sql() -> str:
    """The UNION that ModelBackend's querysets would build, written out once: compiling the ORM's UNION
    took about 0.7 ms on every request (docs/performance.md), the query itself a few microseconds."""
    quote = connection.ops.quote_name
    User = get_user_model()
    user_groups = User.groups.through._meta.db_table
    user_perms = User.user_permissions.through._meta.db_table
    group_perms = Group.permissions.through._meta.db_table
    group, perm, ctype = Group._meta.db_table, Permission._meta.db_table, ContentType._meta.db_table
    # Only table names from the models' _meta are formatted in; the user's id is a parameter.
    return (
        f"SELECT g.name, ct.app_label, p.codename FROM {quote(group)} g"
        f" JOIN {quote(user_groups)} ug ON ug.group_id = g.id"
        f" LEFT JOIN {quote(group_perms)} gp ON gp.group_id = g.id"
        f" LEFT JOIN {quote(perm)} p ON p.id = gp.permission_id"
        f" LEFT JOIN {quote(ctype)} ct ON ct.id = p.content_type_id"
        " WHERE ug.user_id = %s"
        f" UNION ALL SELECT '', ct.app_label, p.codename FROM {quote(perm)} p"
        f" JOIN {quote(user_perms)} up ON up.permission_id = p.id"
        f" JOIN {quote(ctype)} ct ON ct.id = p.content_type_id"
        " WHERE up.user_id = %s"
    )


@functools.cache
def _user_sql() -> str:
    """ModelBackend.get_user's query, written out once: the ORM's read took 0.19 ms of every request here, this
    one 0.08 ms with the row made a user (docs/performance.md, "Queries written out")."""
    User = get_user_model()
    quote = connection.ops.quote_name
    pk_column = User._meta.pk.column or User._meta.pk.attname  # the column is set for every concrete field
    return f"SELECT * FROM {quote(User._meta.db_table)} WHERE {quote(pk_column)} = %s"


def load_roles(user: Any) -> frozenset[str]:
    """The user's group names; fills ModelBackend's permission caches from the same query."""
    names = getattr(user, _LOADED, None)
    if names is not None:
        return names
    with connection.cursor() as cursor:
        cursor.execute(_roles_sql(), [user.pk, user.pk])
        rows = cursor.fetchall()
    group_names: set[str] = set()
    group_perms: set[str] = set()
    user_perms: set[str] = set()
    for group, app_label, codename in rows:
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
    def get_user(self, user_id):
        """ModelBackend's: the user with this id if it may log in, else None."""
        User = get_user_model()
        user = next(iter(User._default_manager.raw(_user_sql(), [User._meta.pk.to_python(user_id)])), None)
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        if user_obj.is_active and not user_obj.is_anonymous and obj is None and not user_obj.is_superuser:
            if not hasattr(user_obj, "_perm_cache"):
                load_roles(user_obj)
        return super().get_all_permissions(user_obj, obj)
