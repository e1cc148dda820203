from django.http import HttpRequest

from . import roles


def permissions(request: HttpRequest) -> dict:
    """`role` and `can.edit` / `can.details` / `can.audit` for templates (display only: views enforce)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"role": None, "can": {}}
    return {
        "role": roles.role_of(user),
        "can": {
            "edit": user.has_perm(roles.CHANGE_STORAGE),
            "details": user.has_perm(roles.VIEW_STORAGE_DETAILS),
            "audit": user.has_perm(roles.VIEW_AUDIT),
        },
    }
