from django.http import HttpRequest

from . import roles


def permissions(request: HttpRequest) -> dict:
    """`role`, `role_label` and `can.edit` / `can.details` / `can.audit` for templates (display only: views
    enforce)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"role": None, "role_label": None, "can": {}}
    role = roles.role_of(user)
    return {
        "role": role,
        "role_label": roles.ROLE_LABELS.get(role) if role else None,
        "can": {
            "edit": user.has_perm(roles.CHANGE_STORAGE),
            "details": user.has_perm(roles.VIEW_STORAGE_DETAILS),
            "audit": user.has_perm(roles.VIEW_AUDIT),
        },
    }
