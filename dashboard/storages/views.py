"""Thin views: parse the request, enforce the permission, call one selector or service, and render the
page or, for htmx, the named partial. Every view checks its own permission (a hidden button is no
protection), and a refused write is recorded through the service layer."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard.accounts.actor import Actor
from dashboard.accounts.roles import CHANGE_STORAGE, VIEW_AUDIT, VIEW_STORAGE, VIEW_STORAGE_DETAILS
from dashboard.audit import selectors as audit_selectors
from dashboard.audit.log import Action
from dashboard.zstack.errors import ResourceNotFound, ZStackError

from . import selectors, services
from .forms import StorageEditForm, StorageFilterForm

CARD = "storages/detail.html#storage-card"


def permission_required(perm: str, *, audit_action: Action | None = None):
    """403 unless the user has ``perm``; a refused POST is audited as ``audit_action``."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(perm):
                if request.method == "POST" and audit_action is not None:
                    services.write_refused(actor=Actor.from_request(request), action=audit_action,
                                           uuid=kwargs.get("uuid", ""))
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _partial(request) -> bool:
    """htmx asked for a fragment (a history restore needs the whole page)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def _status(request, status: int) -> int:
    return 200 if request.htmx else status  # htmx 2 swaps only 2xx: errors are rendered deliberately


def _vary(response):
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- reads ---------------------------------------------------------------------------------------


@require_GET
@permission_required(VIEW_STORAGE)
def storage_list(request):
    form = StorageFilterForm(request.GET)
    page = selectors.storage_list(**form.filters())
    template = "storages/list.html#storage-table" if _partial(request) else "storages/list.html"
    status = 503 if page.error and not _partial(request) else 200
    return _vary(render(request, template, {"form": form, "page": page}, status=status))


@require_GET
@permission_required(VIEW_STORAGE)
def storage_detail(request, uuid):
    context = _card_context(request, uuid)
    if _partial(request):
        return _vary(render(request, CARD, context))
    if context["card"] is not None and request.user.has_perm(VIEW_AUDIT):
        context["history"] = audit_selectors.recent_for(uuid, limit=10)
    status = 503 if context["load_error"] else 200
    return _vary(render(request, "storages/detail.html", context, status=status))


@require_GET
@permission_required(VIEW_STORAGE)
def storage_card(request, uuid):
    return render(request, CARD, _card_context(request, uuid))


# --- edit ----------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@permission_required(CHANGE_STORAGE, audit_action=Action.UPDATE)
def storage_edit(request, uuid):
    if request.method == "POST":
        return _edit_post(request, uuid)
    context = _card_context(request, uuid)
    card = context["card"]
    if card is None:
        return _render_edit(request, uuid, StorageEditForm(), load_error=context["load_error"], status=503)
    storage = card.storage
    form = StorageEditForm(initial={
        "name": storage.name, "description": storage.description or "", "hostname": storage.hostname,
        "username": storage.username, "sshPort": storage.ssh_port, "systemTags": card.tags.system_texts,
        "userTags": card.tags.user_texts, "last_op_date": services.last_op_stamp(storage),
    })
    return _render_edit(request, uuid, form, storage_name=storage.name)


def _edit_post(request, uuid):
    actor = Actor.from_request(request)
    form = StorageEditForm(request.POST)
    if not form.is_valid():
        services.storage_update_invalid(actor=actor, uuid=uuid, errors=form.errors)
        return _render_edit(request, uuid, form, status=422)
    try:
        result = services.storage_update(actor=actor, uuid=uuid, changes=form.values,
                                         loaded_last_op_date=form.cleaned_data["last_op_date"])
    except ResourceNotFound:
        raise Http404(_("No backup storage with this UUID.")) from None
    except services.StaleForm as stale:
        data = request.POST.copy()
        data["last_op_date"] = services.last_op_stamp(stale.current)
        return _render_edit(request, uuid, StorageEditForm(data), stale=stale, status=409)
    except (ZStackError, services.StorageWriteError) as error:
        return _render_edit(request, uuid, form, write_error=_write_error(error), status=_error_status(error))
    if result.changed:
        notice = _("Saved. ZStack accepted the change (job %(job)s).") % {"job": result.correlation_id}
    else:
        notice = _("Nothing changed, so nothing was sent to ZStack.")
    return _after_write(request, uuid, notice, storage=result.storage)


def _render_edit(request, uuid, form, *, status=200, **extra):
    template = "storages/edit.html#edit-form" if _partial(request) else "storages/edit.html"
    context = {"uuid": uuid, "form": form, **extra}
    return render(request, template, context, status=_status(request, status))


# --- card actions --------------------------------------------------------------------------------


@require_POST
@permission_required(CHANGE_STORAGE, audit_action=Action.RECONNECT)
def storage_reconnect(request, uuid):
    return _action(request, uuid, lambda actor: services.storage_reconnect(actor=actor, uuid=uuid),
                   _("Reconnected."))


@require_POST
@permission_required(CHANGE_STORAGE, audit_action=Action.ENABLE)
def storage_enable(request, uuid):
    return _action(request, uuid, lambda actor: services.storage_set_state(actor=actor, uuid=uuid, enabled=True),
                   _("Enabled."))


@require_http_methods(["GET", "POST"])
@permission_required(CHANGE_STORAGE, audit_action=Action.DISABLE)
def storage_disable(request, uuid):
    """GET asks for confirmation (works without JavaScript); POST disables."""
    if request.method == "POST":
        return _action(request, uuid,
                       lambda actor: services.storage_set_state(actor=actor, uuid=uuid, enabled=False),
                       _("Disabled."))
    context = _card_context(request, uuid)
    template = "storages/confirm_disable.html#confirm-disable" if _partial(request) else "storages/confirm_disable.html"
    return render(request, template, context, status=503 if context["load_error"] and not request.htmx else 200)


def _action(request, uuid, run, success: str):
    try:
        result = run(Actor.from_request(request))
    except ResourceNotFound:
        raise Http404(_("No backup storage with this UUID.")) from None
    except (ZStackError, services.StorageWriteError) as error:
        return _after_write(request, uuid, write_error=_write_error(error), status=_error_status(error))
    notice = success + " " + _("ZStack job %(job)s.") % {"job": result.correlation_id}
    return _after_write(request, uuid, notice, storage=result.storage)


def _after_write(request, uuid, notice=None, *, storage=None, write_error=None, status=200):
    """htmx: the refreshed card in place. Plain form post: redirect to the detail page with a message."""
    if request.htmx:
        context = _card_context(request, uuid, storage=storage, notice=notice, write_error=write_error)
        if context["card"] is not None and request.user.has_perm(VIEW_AUDIT):
            # The detail page's "Recent changes" now has a new entry: send it out of band with the card.
            context.update(history=audit_selectors.recent_for(uuid, limit=10), history_oob=True)
        return render(request, CARD, context)
    if write_error:
        messages.error(request, _write_error_text(write_error))
    else:
        messages.success(request, notice)
    return redirect("storages:detail", uuid=uuid)


# --- helpers -------------------------------------------------------------------------------------


def _card_context(request, uuid, *, storage=None, **extra) -> dict:
    """The card partial's context: ``uuid``, ``card`` (None when ZStack failed), ``load_error``, and
    ``last_change``; unknown uuid -> 404."""
    try:
        card = selectors.storage_detail(uuid=uuid, with_details=request.user.has_perm(VIEW_STORAGE_DETAILS),
                                        storage=storage)
        load_error = None
    except ResourceNotFound:
        raise Http404(_("No backup storage with this UUID.")) from None
    except ZStackError as error:
        card, load_error = None, error
    last_change = audit_selectors.last_change_for(uuid) if card is not None else None
    return {"uuid": uuid, "card": card, "load_error": load_error, "last_change": last_change, **extra}


def _write_error(error: Exception) -> dict:
    if isinstance(error, services.WriteFailed):
        return {"code": error.code, "message": error.message, "correlation_id": error.correlation_id,
                "timed_out": error.timed_out}
    if isinstance(error, ZStackError):
        return {"code": error.code, "message": error.user_message, "correlation_id": error.job_uuid,
                "timed_out": False}
    return {"code": None, "correlation_id": None, "timed_out": False,
            "message": _("The change was not made: the audit trail could not record it. Try again later.")}


def _write_error_text(error: dict) -> str:
    text = error["message"]
    if error.get("code"):
        text = f"{error['code']}: {text}"
    if error.get("correlation_id"):
        text += " " + _("(correlation id %(id)s)") % {"id": error["correlation_id"]}
    return text


def _error_status(error: Exception) -> int:
    if isinstance(error, services.WriteFailed) and error.timed_out:
        return 504
    if isinstance(error, services.AuditUnavailable):
        return 503
    return 502
