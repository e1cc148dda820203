"""Thin views: parse the request, enforce the permission, call one selector or service, and render the
page or, for htmx, the named partial. Every view checks its own permission (a hidden button is no
protection), and a refused write is recorded through the service layer."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from dashboard.accounts.actor import Actor
from dashboard.accounts.roles import CHANGE_STORAGE, VIEW_AUDIT, VIEW_STORAGE, VIEW_STORAGE_DETAILS
from dashboard.audit import refusals
from dashboard.audit import selectors as audit_selectors
from dashboard.audit.log import Action
from dashboard.zstack.errors import ResourceNotFound, ZStackError

from . import changes, selectors, services
from .forms import StorageEditForm, StorageFilterForm, join_tags, sign_snapshot
from .templatetags.storage_tags import field_label

CARD = "storages/detail.html#storage-card"
# Pages that answer a fragment to htmx and the whole page otherwise, from the same URL: caches must
# keep both apart.
varies_on_htmx = vary_on_headers("HX-Request")


def requires_permission(perm: str, *, audit_action: Action | None = None):
    """403 unless the user has ``perm``; a refused POST is audited as ``audit_action``."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(perm):
                if request.method == "POST" and audit_action is not None:
                    if not services.write_refused(actor=Actor.from_request(request), action=audit_action,
                                                  uuid=kwargs.get("uuid", "")):
                        return refusals.too_many_refusals()  # over the actor's refusals per minute
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _no_such_storage() -> Http404:
    """ZStack answered an empty list for the uuid (zstack-api.md §4.1): our 404 page."""
    return Http404(_("No backup storage with this UUID."))


def _partial(request) -> bool:
    """htmx asked for a fragment (a history restore needs the whole page)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def _status(request, status: int) -> int:
    return 200 if request.htmx else status  # htmx 2 swaps only 2xx: errors are rendered deliberately


# --- reads ---------------------------------------------------------------------------------------


@require_GET
@requires_permission(VIEW_STORAGE)
@varies_on_htmx
def storage_list(request):
    form = StorageFilterForm(request.GET)
    page = selectors.storage_list(**form.filters())
    template = "storages/list.html#storage-table" if _partial(request) else "storages/list.html"
    status = 503 if page.error and not _partial(request) else 200
    return render(request, template, {"form": form, "page": page}, status=status)


@require_GET
@requires_permission(VIEW_STORAGE)
@varies_on_htmx
def storage_detail(request, uuid):
    context = _card_context(request, uuid)
    if _partial(request):
        return render(request, CARD, context)
    if context["card"] is not None and request.user.has_perm(VIEW_AUDIT):
        context["history"] = audit_selectors.recent_for(uuid, limit=10)
    status = 503 if context["load_error"] else 200
    return render(request, "storages/detail.html", context, status=status)


@require_GET
@requires_permission(VIEW_STORAGE)
@varies_on_htmx
def storage_card(request, uuid):
    return render(request, CARD, _card_context(request, uuid))


# --- edit ----------------------------------------------------------------------------------------


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
@requires_permission(CHANGE_STORAGE, audit_action=Action.UPDATE)
@varies_on_htmx
def storage_edit(request, uuid):
    if request.method == "POST":
        return _edit_post(request, uuid)
    try:
        storage, tags = selectors.storage_for_edit(uuid=uuid)
    except ResourceNotFound:
        raise _no_such_storage() from None
    except ZStackError as error:
        return _render_edit(request, uuid, StorageEditForm(uuid=uuid), load_error=error, status=503)
    form = StorageEditForm.for_storage(uuid, changes.editable_values(storage, tags))
    return _render_edit(request, uuid, form, storage_name=storage.name)


def _edit_post(request, uuid):
    actor = Actor.from_request(request)
    form = StorageEditForm(request.POST, uuid=uuid)
    if not form.is_valid():
        loaded_name = (form.cleaned_data.get("loaded") or {}).get("name", "")  # from the verified snapshot
        services.storage_update_invalid(actor=actor, uuid=uuid, errors=form.errors, storage_name=loaded_name)
        return _render_edit(request, uuid, form, status=422)
    try:
        result = services.storage_update(actor=actor, uuid=uuid, changes=form.values, loaded=form.loaded_values)
    except ResourceNotFound:
        raise _no_such_storage() from None
    except services.StaleForm as stale:
        return _render_edit(request, uuid, _review_form(request, uuid, form, stale), stale=stale, status=409)
    except (ZStackError, services.StorageWriteError) as error:
        return _render_edit(request, uuid, form, write_error=_write_error(error), status=_error_status(error))
    return _after_write(request, uuid, _save_notice(result), result=result)


def _review_form(request, uuid, form, stale: services.StaleForm) -> StorageEditForm:
    """The stale form for review: the user's edits stay, every field they left alone shows ZStack's
    current value, and the snapshot is fresh. Saving it again sends only the user's edits; a field they
    never touched still holding its old value would count as an edit and undo a colleague's change."""
    data = request.POST.copy()
    edited = changes.edited_fields(form.loaded_values, form.values)
    for field, value in stale.current_values.items():
        if field not in edited:
            data[field] = join_tags(value) if field in changes.TAG_FIELDS else ("" if value is None else str(value))
    data["loaded"] = sign_snapshot(uuid, stale.current_values)
    return StorageEditForm(data, uuid=uuid)


def _save_notice(result: services.StorageWriteOutcome) -> str | None:
    """What a save did; with failed parts (shown as warnings) it names what was saved, if anything."""
    if result.failed_parts:
        if not result.changed:
            return None
        fields = ", ".join(field_label(c.field) for c in result.changes)
        return _("Saved %(fields)s (job %(job)s).") % {"fields": fields, "job": result.correlation_id}
    if result.changed:
        return _("Saved. ZStack accepted the change (job %(job)s).") % {"job": result.correlation_id}
    return _("Nothing changed, so nothing was sent to ZStack.")


def _render_edit(request, uuid, form, *, status=200, **extra):
    template = "storages/edit.html#edit-form" if _partial(request) else "storages/edit.html"
    context = {"uuid": uuid, "form": form, **extra}
    return render(request, template, context, status=_status(request, status))


# --- card actions --------------------------------------------------------------------------------


@require_POST
@requires_permission(CHANGE_STORAGE, audit_action=Action.RECONNECT)
@varies_on_htmx
def storage_reconnect(request, uuid):
    return _action(request, uuid, lambda actor: services.storage_reconnect(actor=actor, uuid=uuid),
                   _("Reconnected."))


@require_POST
@requires_permission(CHANGE_STORAGE, audit_action=Action.ENABLE)
@varies_on_htmx
def storage_enable(request, uuid):
    return _action(request, uuid, lambda actor: services.storage_set_state(actor=actor, uuid=uuid, enabled=True),
                   _("Enabled."))


@require_http_methods(["GET", "POST"])
@requires_permission(CHANGE_STORAGE, audit_action=Action.DISABLE)
@varies_on_htmx
def storage_disable(request, uuid):
    """GET asks for confirmation (works without JavaScript); POST disables."""
    if request.method == "POST":
        return _action(request, uuid,
                       lambda actor: services.storage_set_state(actor=actor, uuid=uuid, enabled=False),
                       _("Disabled."))
    try:
        storage, load_error = selectors.storage_get(uuid=uuid), None
    except ResourceNotFound:
        raise _no_such_storage() from None
    except ZStackError as error:
        storage, load_error = None, error
    template = "storages/confirm_disable.html#confirm-disable" if _partial(request) else "storages/confirm_disable.html"
    context = {"uuid": uuid, "storage": storage, "load_error": load_error}
    return render(request, template, context, status=503 if load_error and not request.htmx else 200)


def _action(request, uuid, run, success: str):
    try:
        result = run(Actor.from_request(request))
    except ResourceNotFound:
        raise _no_such_storage() from None
    except (ZStackError, services.StorageWriteError) as error:
        return _after_write(request, uuid, write_error=_write_error(error))
    notice = success + " " + _("ZStack job %(job)s.") % {"job": result.correlation_id}
    return _after_write(request, uuid, notice, result=result)


def _after_write(request, uuid, notice=None, *, result=None, write_error=None):
    """htmx: the refreshed card in place (200 even for an error, which the card shows), built from what
    the write got back from ZStack. Plain form post: redirect to the detail page with messages (PRG)."""
    warnings = _warnings(result) if result is not None else []
    if request.htmx:
        context = _card_context(request, uuid, storage=result.storage if result else None,
                                tags=result.tags if result else None, notice=notice, warnings=warnings,
                                write_error=write_error)
        if context["card"] is not None and request.user.has_perm(VIEW_AUDIT):
            # The detail page's "Recent changes" now has a new entry: send it out of band with the card.
            context.update(history=audit_selectors.recent_for(uuid, limit=10), history_oob=True)
        return render(request, CARD, context)
    if write_error:
        messages.error(request, _write_error_text(write_error))
    elif notice:
        messages.success(request, notice)
    for warning in warnings:
        messages.warning(request, _write_error_text(warning))
    return redirect("storages:detail", uuid=uuid)


# --- helpers -------------------------------------------------------------------------------------


def _card_context(request, uuid, *, storage=None, tags=None, **extra) -> dict:
    """The card partial's context: ``uuid``, ``card`` (None when ZStack failed), ``load_error``, and
    ``last_change`` for those who may read the audit trail; unknown uuid -> 404."""
    try:
        card = selectors.storage_detail(uuid=uuid, with_details=request.user.has_perm(VIEW_STORAGE_DETAILS),
                                        storage=storage, tags=tags)
        load_error = None
    except ResourceNotFound:
        raise _no_such_storage() from None
    except ZStackError as error:
        card, load_error = None, error
    # Who changed what is the audit trail's to tell: a viewer sees neither it nor its database query.
    last_change = None
    if card is not None and request.user.has_perm(VIEW_AUDIT):
        last_change = audit_selectors.last_change_for(uuid)
    return {"uuid": uuid, "card": card, "load_error": load_error, "last_change": last_change, **extra}


def _warnings(result: services.StorageWriteOutcome) -> list[dict]:
    """The parts of a write that did not take effect although the rest did."""
    warnings = []
    for part in result.failed_parts:
        tags = ", ".join(f"“{tag}”" for tag in part.tags)
        if part.kind == "not-stored":
            message = _("ZStack accepted the update but did not store these tags: %(tags)s.") % {"tags": tags}
        elif part.outcome_unknown:
            message = _("Removing the tag %(tag)s did not complete in time: %(error)s") % {
                "tag": tags, "error": part.message}
        else:
            message = _("Removing the tag %(tag)s failed: %(error)s") % {"tag": tags, "error": part.message}
        warnings.append({"message": message, "code": part.code, "correlation_id": part.correlation_id})
    # result.refresh_error needs no words here: the card below is loaded again, and says so if it cannot be.
    return warnings


def _write_error(error: Exception) -> dict:
    if isinstance(error, services.WriteFailed):
        return {"code": error.code, "message": error.message, "correlation_id": error.correlation_id,
                "outcome_unknown": error.outcome_unknown}
    if isinstance(error, ZStackError):
        return {"code": error.code, "message": error.user_message, "correlation_id": error.job_uuid,
                "outcome_unknown": False}
    return {"code": None, "correlation_id": None, "outcome_unknown": False,
            "message": _("The change was not made: the audit trail could not record it. Try again later.")}


def _write_error_text(error: dict) -> str:
    text = error["message"]
    if error.get("code"):
        text = f"{error['code']}: {text}"
    if error.get("correlation_id"):
        text += " " + _("(correlation id %(id)s)") % {"id": error["correlation_id"]}
    return text


def _error_status(error: Exception) -> int:
    if isinstance(error, services.WriteFailed) and error.outcome_unknown:
        return 504
    if isinstance(error, services.AuditUnavailable):
        return 503
    return 502
