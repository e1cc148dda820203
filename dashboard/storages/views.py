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
from dashboard.capacity import selectors as capacity_selectors
from dashboard.capacity import thresholds
from dashboard.partials import wants_partial
from dashboard.zstack.errors import ResourceNotFound, ZStackError

from . import changes, presenters, selectors, services, shown, submissions, table_rows, wording
from .form_rebuild import form_again, review_form, with_fresh_token
from .forms import StorageEditForm, StorageFilterForm, StorageImagesForm
from .shown import ShownError, response_status

CARD = "storages/detail.html#storage-card"
IMAGES = "storages/detail.html#storage-images"
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
                    if not services.write_refused(
                        actor=Actor.from_request(request), action=audit_action, uuid=kwargs.get("uuid", "")
                    ):
                        return refusals.too_many_refusals()  # over the actor's refusals per minute
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _no_such_storage() -> Http404:
    """ZStack answered an empty list for the uuid (docs/zstack-protocol.md §4.1): our 404 page."""
    return Http404(_("No backup storage with this UUID."))


def _load_error(error: ZStackError | None, title: str = "") -> ShownError | None:
    return None if error is None else shown.load_failure(error, title)


# --- reads ---------------------------------------------------------------------------------------


@require_GET
@requires_permission(VIEW_STORAGE)
@varies_on_htmx
def storage_list(request):
    base = request.path
    clean = base + presenters.clean_query(request.GET)
    if not request.htmx and clean != request.get_full_path():
        return redirect(clean)  # the plain GET form sends every field, empty or not: share the clean URL
    form = StorageFilterForm(request.GET)
    page = selectors.storage_list(**form.filters())
    partial = wants_partial(request)
    template = "storages/list.html#storage-table" if partial else "storages/list.html"
    load_error = _load_error(page.error, _("The storage list could not be loaded"))
    status = load_error.status if load_error else 200
    context = {
        "form": form,
        "selects": None if partial else presenters.filter_selects(form, page.zones),
        "page": page,
        "rows_html": table_rows.storage_rows(presenters.list_rows(page)),
        "pager": presenters.pager(page, request.GET, base),
        "first_page_url": base + presenters.clean_query(request.GET, page=None),
        "load_error": load_error,
    }
    response = render(request, template, context, status=response_status(request, status))
    if request.htmx and clean != request.get_full_path():
        response["HX-Push-Url"] = clean  # htmx would push the form's empty fields as the shareable URL
    return response


@require_GET
@requires_permission(VIEW_STORAGE)
@varies_on_htmx
def storage_detail(request, uuid, progress=None, images_params=None):
    partial = wants_partial(request)
    images = None if partial else selectors.storage_images_soon(uuid=uuid, **(images_params or {}))
    try:
        context = _card_context(
            request,
            uuid,
            also_query=None if partial else lambda: _detail_queries(request, uuid),
            **(_result_context(progress) if progress and not progress.running else {}),
        )
    finally:
        loaded = images() if images is not None else None  # waited for even on a 404: no read outlives its request
    if loaded is None:
        return render(request, CARD, context)
    if context["card"] is None:  # the card already says when ZStack cannot be read
        context["history"] = None
    else:
        context.update(_images_context(loaded))
    status = context["load_error"].status if context["load_error"] else 200
    return render(request, "storages/detail.html", context, status=response_status(request, status))


@require_GET
@requires_permission(VIEW_STORAGE)
@varies_on_htmx
def storage_card(request, uuid):
    return render(request, CARD, _card_context(request, uuid))


@require_GET
@requires_permission(VIEW_STORAGE)
@varies_on_htmx
def storage_images(request, uuid):
    """The images stored on the storage (every role: capacity insight). htmx: the section alone; a plain
    request (a pager or sort link without JavaScript): the detail page showing that page of images."""
    params = StorageImagesForm(request.GET).params()
    if not wants_partial(request):
        return storage_detail(request, uuid, images_params=params)
    return render(request, IMAGES, {"uuid": uuid, **_images_context(selectors.storage_images(uuid=uuid, **params))})


def _images_context(images: selectors.ImagePage) -> dict:
    error = _load_error(images.error, _("The images on this storage could not be loaded"))
    rows = table_rows.image_rows(presenters.image_rows(images.images))
    return {"images": images, "image_rows_html": rows, "images_error": error}


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
        load_error = shown.load_failure(error, _("The storage could not be loaded from ZStack"))
        return _render_edit(request, uuid, StorageEditForm(uuid=uuid), load_error=load_error, status=load_error.status)
    form = StorageEditForm.for_storage(uuid, changes.editable_values(storage, tags))
    return _render_edit(request, uuid, form, storage_name=storage.name)


def _edit_post(request, uuid):
    actor = Actor.from_request(request)
    form = StorageEditForm(request.POST, uuid=uuid)
    if not form.is_valid():
        loaded_name = (form.cleaned_data.get("loaded") or {}).get("name", "")  # from the verified snapshot
        services.storage_update_invalid(actor=actor, uuid=uuid, errors=form.errors, storage_name=loaded_name)
        if "submission" in form.errors:
            form = with_fresh_token(form, uuid)
        return _render_edit(request, uuid, form, status=shown.UNPROCESSABLE)
    try:
        progress = services.storage_update(
            actor=actor, uuid=uuid, changes=form.values, loaded=form.loaded_values, nonce=form.nonce
        )
    except ResourceNotFound:
        raise _no_such_storage() from None
    except services.StaleForm as stale:
        return _render_edit(
            request, uuid, review_form(request.POST, uuid, form, stale), stale=stale, status=shown.CONFLICT
        )
    except (ZStackError, services.StorageWriteError) as error:
        write_error = shown.write_failure(error)
        return _render_edit(
            request, uuid, form_again(request.POST, uuid), write_error=write_error, status=write_error.status
        )
    if progress.running or not progress.failed_parts:
        return _after_write(request, uuid, progress)
    # Something did not take effect: the form again, the user's input kept, each refused field marked.
    warnings = _result_context(progress)["warnings"]
    return _render_edit(
        request,
        uuid,
        form_again(request.POST, uuid, progress),
        progress=progress,
        warnings=warnings,
        status=shown.refusal_status(warnings),
    )


def _render_edit(request, uuid, form, *, status=200, **extra):
    template = "storages/edit.html#edit-form" if wants_partial(request) else "storages/edit.html"
    context = {"uuid": uuid, "form": form, **extra}
    return render(request, template, context, status=response_status(request, status))


# --- card actions --------------------------------------------------------------------------------


@require_POST
@requires_permission(CHANGE_STORAGE, audit_action=Action.RECONNECT)
@varies_on_htmx
def storage_reconnect(request, uuid):
    return _action(
        request,
        uuid,
        Action.RECONNECT,
        lambda actor, nonce: services.storage_reconnect(actor=actor, uuid=uuid, nonce=nonce),
    )


@require_POST
@requires_permission(CHANGE_STORAGE, audit_action=Action.ENABLE)
@varies_on_htmx
def storage_enable(request, uuid):
    return _action(
        request,
        uuid,
        Action.ENABLE,
        lambda actor, nonce: services.storage_set_state(actor=actor, uuid=uuid, enabled=True, nonce=nonce),
    )


@require_http_methods(["GET", "POST"])
@requires_permission(CHANGE_STORAGE, audit_action=Action.DISABLE)
@varies_on_htmx
def storage_disable(request, uuid):
    """GET asks for confirmation (works without JavaScript); POST disables."""
    if request.method == "POST":
        return _action(
            request,
            uuid,
            Action.DISABLE,
            lambda actor, nonce: services.storage_set_state(actor=actor, uuid=uuid, enabled=False, nonce=nonce),
        )
    return _confirmation(request, uuid, "disable")


@require_http_methods(["GET", "POST"])
@requires_permission(CHANGE_STORAGE, audit_action=Action.RECLAIM)
@varies_on_htmx
def storage_reclaim(request, uuid):
    """GET asks for confirmation (works without JavaScript); POST runs ImageStore's garbage collection."""
    if request.method == "POST":
        return _action(
            request,
            uuid,
            Action.RECLAIM,
            lambda actor, nonce: services.storage_reclaim_space(actor=actor, uuid=uuid, nonce=nonce),
        )
    return _confirmation(request, uuid, "reclaim")


def _confirmation(request, uuid, what: str):
    """The page (or, for htmx, the fragment replacing the card) asking to confirm an action."""
    try:
        storage, load_error = selectors.storage_get(uuid=uuid), None
    except ResourceNotFound:
        raise _no_such_storage() from None
    except ZStackError as error:
        storage, load_error = None, shown.load_failure(error)
    template = f"storages/confirm_{what}.html"
    if wants_partial(request):
        template += f"#confirm-{what}"
    context = {"uuid": uuid, "storage": storage, "load_error": load_error}
    return render(request, template, context, status=response_status(request, load_error.status if load_error else 200))


def _action(request, uuid, action: Action, run):
    nonce = submissions.read_token(request.POST.get("submission"), uuid=uuid, action=action)
    if nonce is None:
        return _after_write(request, uuid, write_error=shown.expired_button())
    try:
        progress = run(Actor.from_request(request), nonce)
    except ResourceNotFound:
        raise _no_such_storage() from None
    except (ZStackError, services.StorageWriteError) as error:
        return _after_write(request, uuid, write_error=shown.write_failure(error, on_card=True))
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
    if wants_partial(request):
        if progress is not None and progress.running:
            return render(
                request,
                "storages/detail.html#write-progress",
                {"uuid": uuid, "write": submissions.RunningWrite.of(submission, request.user.pk)},
            )
        return retarget(reswap(_after_write(request, uuid, progress), "outerHTML"), f"#storage-card-{uuid}")
    return storage_detail(request, uuid, progress=progress)


def _after_write(
    request, uuid, progress: services.WriteProgress | None = None, *, write_error: ShownError | None = None
):
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
        messages.error(request, shown.message_text(write_error))
    if progress is not None and progress.running and progress.submission is not None:
        messages.info(request, result["notice"])
        return redirect("storages:submission", uuid=uuid, nonce=progress.submission.token)
    if result.get("notice"):
        messages.success(request, result["notice"])
    for warning in result.get("warnings", ()):
        messages.warning(request, shown.message_text(warning))
    return redirect("storages:detail", uuid=uuid)


def _result_context(progress: services.WriteProgress) -> dict:
    """What the card says about a write: a notice, and a warning per part that did not take effect."""
    warnings = [shown.part_failure(part) for part in progress.failed_parts]
    notice = wording.write_notice(progress)
    if progress.replayed and notice:
        notice = wording.replayed_notice(notice)
    return {"notice": notice, "warnings": warnings, "write": progress}


# --- helpers -------------------------------------------------------------------------------------


def _card_or_error(card_soon) -> tuple[selectors.StorageCard | None, ShownError | None]:
    try:
        return card_soon(), None
    except ResourceNotFound:
        raise _no_such_storage() from None
    except ZStackError as error:
        return None, shown.load_failure(error, _("The storage could not be loaded from ZStack"))


def _detail_queries(request, uuid) -> dict:
    """What the detail page adds from our own database: recent changes (for those who may read the audit
    trail) and the capacity history (``trend``)."""
    history = audit_selectors.recent_for(uuid, limit=10) if request.user.has_perm(VIEW_AUDIT) else None
    return {"history": history, "trend": capacity_selectors.history(uuid)}


def _card_context(request, uuid, *, storage=None, tags=None, also_query=None, **extra) -> dict:
    """The card partial's context: ``uuid``, ``card`` (None when ZStack failed) and ``display`` (what it
    shows, presenters.CardView), ``load_error``, ``limits`` (its effective thresholds), ``running`` (writes
    in progress, from our database) and ``last_change`` for those who may read the audit trail; unknown
    uuid -> 404. ``also_query``: more of the page's own queries, made while ZStack is read; its dict joins
    the context."""
    # ZStack is read in the background while this thread asks our own database: the card costs its slowest
    # ZStack read, not that read plus the queries.
    card_soon = selectors.storage_detail_soon(
        uuid=uuid, with_details=request.user.has_perm(VIEW_STORAGE_DETAILS), storage=storage, tags=tags
    )
    try:
        # Who changed what is the audit trail's to tell: a viewer sees neither it nor its database query.
        last_change = audit_selectors.last_change_for(uuid) if request.user.has_perm(VIEW_AUDIT) else None
        running = [submissions.RunningWrite.of(s, request.user.pk) for s in submissions.running_for(uuid)]
        limits = thresholds.for_storage(uuid)
        queried = also_query() if also_query is not None else {}
    finally:
        card, load_error = _card_or_error(card_soon)  # waited for even when a query failed: no read outlives it
    # The card refreshes itself sooner while the storage is connecting or someone else's write runs; the
    # submitter's own write has its cheap progress line, which brings the card with the result.
    poll_fast = bool(card and card.is_connecting) or any(write.nonce is None for write in running)
    return {
        "uuid": uuid,
        "card": card,
        "display": presenters.card_view(card, limits) if card is not None else None,
        "load_error": load_error,
        "limits": limits,
        "last_change": last_change if card is not None else None,
        "running": running,
        "poll_fast": poll_fast,
        **queried,
        **extra,
    }
