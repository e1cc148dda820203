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
from django_htmx.http import reswap, retarget

from dashboard.accounts.actor import Actor
from dashboard.accounts.roles import CHANGE_STORAGE, VIEW_AUDIT, VIEW_STORAGE, VIEW_STORAGE_DETAILS
from dashboard.audit import refusals
from dashboard.audit import selectors as audit_selectors
from dashboard.audit.log import Action
from dashboard.zstack.errors import ResourceNotFound, ZStackError

from . import changes, selectors, services, submissions
from .forms import StorageEditForm, StorageFilterForm, join_tags, sign_snapshot
from .submissions import PartState
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
def storage_detail(request, uuid, progress=None):
    context = _card_context(request, uuid, **(_result_context(progress) if progress and not progress.running else {}))
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
        if "submission" in form.errors:  # the next try needs a token that is still valid
            form.data = form.data.copy()
            form.data["submission"] = submissions.new_token(uuid, Action.UPDATE)
        return _render_edit(request, uuid, form, status=422)
    try:
        progress = services.storage_update(actor=actor, uuid=uuid, changes=form.values, loaded=form.loaded_values,
                                           nonce=form.nonce)
    except ResourceNotFound:
        raise _no_such_storage() from None
    except services.StaleForm as stale:
        return _render_edit(request, uuid, _review_form(request, uuid, form, stale), stale=stale, status=409)
    except (ZStackError, services.StorageWriteError) as error:
        return _render_edit(request, uuid, _form_again(request, uuid), write_error=_write_error(error),
                            status=_error_status(error))
    if progress.running or not progress.failed_parts:
        return _after_write(request, uuid, progress)
    # Something did not take effect: the form again, the user's input kept, each refused field marked.
    return _render_edit(request, uuid, _form_again(request, uuid, progress), progress=progress,
                        warnings=_result_context(progress)["warnings"], status=_refusal_status(progress))


def _refusal_status(progress: services.WriteProgress) -> int:
    """504: ZStack may still complete a part; 422: it refused the input itself (SYS.1007, an invalid
    argument, e.g. a system tag no pattern accepts); 502: it failed to do what was asked."""
    if progress.unconfirmed:
        return 504
    return 422 if all(part.error_code == "SYS.1007" for part in progress.failed_parts) else 502


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
    data["submission"] = submissions.new_token(uuid, Action.UPDATE)
    return StorageEditForm(data, uuid=uuid)


def _form_again(request, uuid, progress: services.WriteProgress | None = None) -> StorageEditForm:
    """The submitted form once more, for another try: the input kept, a new submission token, and, after a
    partial save, a snapshot of ZStack's values now, so the next save sends only what is still to do."""
    data = request.POST.copy()
    data["submission"] = submissions.new_token(uuid, Action.UPDATE)
    if progress is not None and progress.changed:
        try:
            storage, tags = selectors.storage_for_edit(uuid=uuid)
            data["loaded"] = sign_snapshot(uuid, changes.editable_values(storage, tags))
        except ZStackError:
            pass  # the old snapshot: the next save may find a conflict, which it explains
    form = StorageEditForm(data, uuid=uuid)
    if progress is not None and form.is_valid():
        for part in progress.failed_parts:
            for change in part.changes:
                form.add_error(change["field"], _part_error_text(part))
    return form


def _part_error_text(part) -> str:
    if part.state == PartState.UNKNOWN:
        return _("ZStack did not confirm this change: %(error)s") % {"error": part.error_message}
    return _("ZStack did not save this: %(error)s") % {"error": part.error_message}


def _render_edit(request, uuid, form, *, status=200, **extra):
    template = "storages/edit.html#edit-form" if _partial(request) else "storages/edit.html"
    context = {"uuid": uuid, "form": form, **extra}
    return render(request, template, context, status=_status(request, status))


# --- card actions --------------------------------------------------------------------------------


@require_POST
@requires_permission(CHANGE_STORAGE, audit_action=Action.RECONNECT)
@varies_on_htmx
def storage_reconnect(request, uuid):
    return _action(request, uuid, Action.RECONNECT,
                   lambda actor, nonce: services.storage_reconnect(actor=actor, uuid=uuid, nonce=nonce))


@require_POST
@requires_permission(CHANGE_STORAGE, audit_action=Action.ENABLE)
@varies_on_htmx
def storage_enable(request, uuid):
    return _action(request, uuid, Action.ENABLE,
                   lambda actor, nonce: services.storage_set_state(actor=actor, uuid=uuid, enabled=True, nonce=nonce))


@require_http_methods(["GET", "POST"])
@requires_permission(CHANGE_STORAGE, audit_action=Action.DISABLE)
@varies_on_htmx
def storage_disable(request, uuid):
    """GET asks for confirmation (works without JavaScript); POST disables."""
    if request.method == "POST":
        return _action(request, uuid, Action.DISABLE,
                       lambda actor, nonce: services.storage_set_state(actor=actor, uuid=uuid, enabled=False,
                                                                       nonce=nonce))
    try:
        storage, load_error = selectors.storage_get(uuid=uuid), None
    except ResourceNotFound:
        raise _no_such_storage() from None
    except ZStackError as error:
        storage, load_error = None, error
    template = "storages/confirm_disable.html#confirm-disable" if _partial(request) else "storages/confirm_disable.html"
    context = {"uuid": uuid, "storage": storage, "load_error": load_error}
    return render(request, template, context, status=503 if load_error and not request.htmx else 200)


def _action(request, uuid, action: Action, run):
    nonce = submissions.read_token(request.POST.get("submission"), uuid=uuid, action=action)
    if nonce is None:
        return _after_write(request, uuid, write_error={
            "code": None, "correlation_id": None, "outcome_unknown": False,
            "message": _("This button had expired, so nothing was sent. The card is up to date now: try again.")})
    try:
        progress = run(Actor.from_request(request), nonce)
    except ResourceNotFound:
        raise _no_such_storage() from None
    except (ZStackError, services.StorageWriteError) as error:
        return _after_write(request, uuid, write_error=_write_error(error))
    return _after_write(request, uuid, progress)


# --- a write's progress --------------------------------------------------------------------------


@require_GET
@requires_permission(CHANGE_STORAGE)
@varies_on_htmx
def storage_submission(request, uuid, nonce):
    """Where one write stands, read from our own database (no call to ZStack while it runs). htmx: the
    progress line while it runs, then the refreshed card with its result. Without JavaScript: the
    detail page saying it is in progress, and after a reload the result."""
    submission = submissions.for_viewer(nonce, uuid)
    progress = services.WriteProgress(submission) if submission is not None else None
    if _partial(request):
        if progress is not None and progress.running:
            return render(request, "storages/detail.html#write-progress",
                          {"uuid": uuid, "write": submissions.RunningWrite.of(submission, request.user.pk)})
        return retarget(reswap(_after_write(request, uuid, progress), "outerHTML"), f"#storage-card-{uuid}")
    return storage_detail(request, uuid, progress=progress)


def _after_write(request, uuid, progress: services.WriteProgress | None = None, *, write_error=None):
    """htmx: the refreshed card in place (200 even for an error, which the card shows). Plain form post:
    redirect to where the write can be followed, or to the detail page, with messages (PRG)."""
    result = _result_context(progress) if progress is not None else {}
    if request.htmx:
        context = _card_context(request, uuid, write_error=write_error, **result)
        if context["card"] is not None and request.user.has_perm(VIEW_AUDIT):
            # The detail page's "Recent changes" now has a new entry: send it out of band with the card.
            context.update(history=audit_selectors.recent_for(uuid, limit=10), history_oob=True)
        return render(request, CARD, context)
    if write_error:
        messages.error(request, _write_error_text(write_error))
    if progress is not None and progress.running:
        messages.info(request, result["notice"])
        return redirect("storages:submission", uuid=uuid, nonce=progress.submission.token)
    if result.get("notice"):
        messages.success(request, result["notice"])
    for warning in result.get("warnings", ()):
        messages.warning(request, _write_error_text(warning))
    return redirect("storages:detail", uuid=uuid)


def _result_context(progress: services.WriteProgress) -> dict:
    """What the card says about a write: a notice, and a warning per part that did not take effect."""
    warnings = [{"message": _part_warning(part), "code": part.error_code, "correlation_id": part.job}
                for part in progress.failed_parts]
    notice = _write_notice(progress)
    if progress.replayed and notice:
        notice = _("This was already submitted; nothing was sent again.") + " " + notice
    return {"notice": notice, "warnings": warnings, "write": progress}
# --- helpers -------------------------------------------------------------------------------------


def _card_context(request, uuid, *, storage=None, tags=None, **extra) -> dict:
    """The card partial's context: ``uuid``, ``card`` (None when ZStack failed), ``load_error``,
    ``running`` (writes in progress, from our database) and ``last_change`` for those who may read the
    audit trail; unknown uuid -> 404."""
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
    running = [submissions.RunningWrite.of(s, request.user.pk) for s in submissions.running_for(uuid)]
    # The card refreshes itself sooner while the storage is connecting or someone else's write runs; the
    # submitter's own write has its cheap progress line, which brings the card with the result.
    poll_fast = bool(card and card.is_connecting) or any(write.nonce is None for write in running)
    return {"uuid": uuid, "card": card, "load_error": load_error, "last_change": last_change, "running": running,
            "poll_fast": poll_fast, **extra}


def _write_notice(progress: services.WriteProgress) -> str | None:
    if progress.submission is None:
        return _("Nothing changed, so nothing was sent to ZStack.")
    if progress.running:
        return _("ZStack is still working on it. This page shows the result when it ends; you may leave it.")
    if not progress.changed:
        return None  # the warnings (or the error) say it all
    if progress.failed_parts:
        fields = ", ".join(dict.fromkeys(str(field_label(c["field"])) for p in progress.done_parts for c in p.changes))
        return _("Saved: %(fields)s.") % {"fields": fields} if fields else None
    return {
        Action.UPDATE: _("Saved."), Action.RECONNECT: _("Reconnected."),
        Action.ENABLE: _("Enabled."), Action.DISABLE: _("Disabled."),
    }.get(progress.submission.action, _("Done."))


def _part_warning(part) -> str:
    what = _part_label(part)
    if part.state == PartState.UNKNOWN:
        return _("%(what)s was not confirmed by ZStack in time: %(error)s") % {"what": what, "error": part.error_message}
    return _("%(what)s did not take effect: %(error)s") % {"what": what, "error": part.error_message}


def _part_label(part) -> str:
    if part.kind == "tag-add":
        return _("Adding the tag “%(tag)s”") % {"tag": part.args.get("tag", "")}
    if part.kind == "tag-remove":
        return _("Removing the tag “%(tag)s”") % {"tag": part.args.get("tag", "")}
    if part.kind == "update":
        return _("The change of %(fields)s") % {"fields": ", ".join(str(field_label(c["field"])) for c in part.changes)}
    return {"reconnect": _("The reconnect"), "enable": _("Enabling"), "disable": _("Disabling")}.get(part.kind, part.kind)


def _write_error(error: Exception) -> dict:
    """An error before any job was sent (ZStack unreachable, the audit trail unavailable)."""
    if isinstance(error, ZStackError):
        return {"code": error.code, "message": error.user_message, "correlation_id": error.job_uuid,
                "outcome_unknown": False}
    if isinstance(error, services.SubmissionBusy):
        return {"code": None, "correlation_id": None, "outcome_unknown": False,
                "message": _("This form is being sent by another request right now, so this one sent nothing. "
                             "Reload the storage in a moment to see the result.")}
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
    if isinstance(error, services.AuditUnavailable):
        return 503
    if isinstance(error, services.SubmissionBusy):
        return 409
    return 502
