"""/capacity/: the fleet overview, for every role that may see storages (viewer, auditor, admin). It shows
capacity and names only, never connection details (there are none in snapshots)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.accounts.roles import VIEW_STORAGE

from . import selectors, thresholds


@require_GET
def overview(request):
    if not request.user.has_perm(VIEW_STORAGE):
        raise PermissionDenied
    view = selectors.overview()
    context = {"view": view, "warning": thresholds.warning_percent(), "critical": thresholds.critical_percent()}
    return render(request, "capacity/overview.html", context, status=503 if view.error else 200)
