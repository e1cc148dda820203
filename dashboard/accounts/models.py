"""No tables of our own: roles are auth Groups carrying the permissions of the `RolePermissions` model."""

from django.db import models


class RolePermissions(models.Model):  # noqa: DJ008 - unmanaged, no rows: nothing is ever shown as text
    """An unmanaged model whose only job is to own the permissions the roles are made of."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_storage", "Can view backup storage capacity and status"),
            ("view_storage_details", "Can view hostnames, SSH users, ports and tags"),
            ("change_storage", "Can edit backup storage and run its actions"),
            ("view_audit", "Can read and export the audit log"),
        ]
