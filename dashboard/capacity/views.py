"""/capacity/: the fleet overview, for every role that may see storages (viewer, auditor, admin). It shows
capacity and names only, never connection details (there are none in snapshots).

A storage's own thresholds: admins set or reset them (a form reached from the detail page, swapped in place
by htmx, a page of its own without JavaScript); other roles get 403 and their refused POST is audited, as for
every write (dashboard/storages/views.requires_permission)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard.accounts.actor import Actor
from dashboard.accounts.roles import CHANGE_STORAGE, VIEW_AUDIT, VIEW_STORAGE
from dashboard.audit import selectors as audit_selectors
from dashboard.audit.log import Action
from dashboard.partials import wants_partial
from dashboard.storages.views import requires_permission, varies_on_htmx
from dashboard.zstack.errors import ResourceNotFound

from . import selectors, services, thresholds
from .forms import ThresholdsForm

SECTION = "capacity/thresholds.html#thresholds-section"
HISTORY = "storages/detail.html#storage-history"


@require_GET
def overview(request):
    if not request.user.has_perm(VIEW_STORAGE):
        raise PermissionDenied
    view = selectors.overview()
    context = {"view": view, "warning": thresholds.warning_percent(), "critical": thresholds.critical_percent()}
    return render(request, "capacity/overview.html", context, status=503 if view.error else 200)


def _storage_name(uuid: str) -> str:
    """404 for a storage ZStack does not know (no override for made-up uuids); "" when ZStack can't be asked,
    as thresholds live in our database and an admin may still set them."""
    try:
        return selectors.storage_name(uuid)
    except ResourceNotFound:
        raise Http404(_("No backup storage with this UUID.")) from None


@require_http_methods(["GET", "POST"])
@requires_permission(CHANGE_STORAGE, audit_action=Action.THRESHOLDS)
@varies_on_htmx
def thresholds_edit(request, uuid):
    """GET: the form, prefilled with the effective thresholds. POST: set them (a no-op when unchanged)."""
    effective = thresholds.for_storage(uuid)
    if request.method == "GET":
        form = ThresholdsForm(initial={"warning": f"{effective.warning:g}", "critical": f"{effective.critical:g}"})
        return _render(request, uuid, form, effective)
    name = _storage_name(uuid)
    form = ThresholdsForm(request.POST)
    if not form.is_valid():
        services.thresholds_invalid(actor=Actor.from_request(request), uuid=uuid, errors=form.errors, storage_name=name)
        return _render(request, uuid, form, effective, status=422)
    warning, critical = form.values
    try:
        changed = services.set_thresholds(
            actor=Actor.from_request(request), uuid=uuid, warning=warning, critical=critical, storage_name=name
        )
    except services.ThresholdsError:
        return _render(request, uuid, form, effective, status=503, save_error=True)
    notice = _("Thresholds saved.") if changed else _("These thresholds were already set: nothing changed.")
    return _after(request, uuid, notice)


@require_POST
@requires_permission(CHANGE_STORAGE, audit_action=Action.THRESHOLDS)
@varies_on_htmx
def thresholds_reset(request, uuid):
    name = _storage_name(uuid)
    try:
        changed = services.reset_thresholds(actor=Actor.from_request(request), uuid=uuid, storage_name=name)
    except services.ThresholdsError:
        form = ThresholdsForm(
            initial={"warning": thresholds.warning_percent(), "critical": thresholds.critical_percent()}
        )
        return _render(request, uuid, form, thresholds.for_storage(uuid), status=503, save_error=True)
    notice = _("Thresholds reset to the defaults.") if changed else _("This storage already uses the defaults.")
    return _after(request, uuid, notice)


@require_GET
@requires_permission(VIEW_STORAGE)
@varies_on_htmx
def thresholds_show(request, uuid):
    """The thresholds section as shown on the detail page (htmx's Cancel brings it back)."""
    return render(request, SECTION, _section_context(request, uuid))


def _section_context(request, uuid, **extra) -> dict:
    return {
        "uuid": uuid,
        "effective": thresholds.for_storage(uuid),
        "defaults": thresholds.defaults(),
        "can_change": request.user.has_perm(CHANGE_STORAGE),
        **extra,
    }


def _render(request, uuid, form, effective, *, status=200, **extra):
    partial = wants_partial(request)
    context = _section_context(request, uuid, form=form, effective=effective, **extra)
    template = SECTION if partial else "capacity/thresholds.html"
    return render(request, template, context, status=200 if partial else status)


def _after(request, uuid, notice: str):
    """htmx: the section in place, showing the new thresholds, and the card asked to refresh itself (its badge
    and meter follow). Without JavaScript: back to the detail page with a message (PRG)."""
    if wants_partial(request):
        response = render(request, SECTION, _section_context(request, uuid, notice=notice))
        if request.user.has_perm(VIEW_AUDIT):  # the detail page's "Recent changes" has a new entry: out of band
            history = audit_selectors.recent_for(uuid, limit=10)
            oob = render_to_string(HISTORY, {"history": history, "history_oob": True}, request=request)
            response.content += oob.encode()
        response["HX-Trigger-After-Swap"] = json.dumps({"storage-refresh": {"target": f"#storage-card-{uuid}"}})
        return response
    messages.success(request, notice)
    return redirect("storages:detail", uuid=uuid)
